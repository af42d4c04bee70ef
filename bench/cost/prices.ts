/**
 * Every price the cost model uses, in one place: us-east-1, arm64, on-demand list prices.
 * Sources: ../shared/NOTES.md "AWS limits that shape the design" (checked 2026-12) for Lambda, DynamoDB,
 * SQS and CloudWatch Logs; the AWS pricing pages named below for the rest (CloudFront, X-Ray, custom
 * metrics), as last listed there — not re-checked in 2026: confirm before quoting them.
 */

export interface Tier {
  /** Upper bound of the tier, in the unit of the tiered quantity per month. */
  readonly upTo: number;
  readonly usd: number;
}

export const PRICES = {
  asOf: '2026-12',
  region: 'us-east-1',
  lambda: {
    source: 'aws.amazon.com/lambda/pricing (arm64); NOTES.md',
    /** Per GB-second, tiered on the account's monthly arm64 GB-seconds in the region. */
    gbSecondTiers: [
      { upTo: 7.5e9, usd: 0.0000133334 },
      { upTo: 18.75e9, usd: 0.0000120001 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.0000106667 },
    ] satisfies readonly Tier[],
    usdPerMillionRequests: 0.2,
  },
  dynamodb: {
    source: 'aws.amazon.com/dynamodb/pricing/on-demand (after the Nov 2024 cut); NOTES.md',
    STANDARD: { usdPerMillionWru: 0.625, usdPerMillionRru: 0.125, usdPerGbMonth: 0.25 },
    /** Standard-IA: requests cost 25 % more, storage 60 % less. */
    STANDARD_INFREQUENT_ACCESS: { usdPerMillionWru: 0.78125, usdPerMillionRru: 0.15625, usdPerGbMonth: 0.1 },
    /** Continuous backups, per GB-month of table size (indexes not included). */
    pitrUsdPerGbMonth: 0.2,
  },
  sqs: {
    source: 'aws.amazon.com/sqs/pricing (standard queue); NOTES.md',
    usdPerMillionRequests: 0.4,
    /** Each 64 KB chunk of a request's payload is billed as one request. */
    billedChunkBytes: 64 * 1024,
  },
  cloudwatch: {
    source: 'aws.amazon.com/cloudwatch/pricing; NOTES.md (logs)',
    logsUsdPerGbIngested: 0.5,
    /** EMF metrics are custom metrics: per metric (name + dimension values) and month, first 10,000. */
    usdPerMetricMonth: 0.3,
  },
  waf: {
    source: 'aws.amazon.com/waf/pricing (web ACL, rules, requests inspected)',
    usdPerMillionRequests: 0.6,
    usdPerWebAclMonth: 5,
    /** Each rule, a managed rule group counting as one. */
    usdPerRuleMonth: 1,
  },
  cloudfront: {
    source: 'aws.amazon.com/cloudfront/pricing (United States, Mexico & Canada edge locations)',
    usdPerMillionHttpsRequests: 1.0,
    /** Data transfer out to the internet, tiered on the monthly volume in GB. */
    dataTransferOutTiers: [
      { upTo: 10_240, usd: 0.085 },
      { upTo: 51_200, usd: 0.08 },
      { upTo: 153_600, usd: 0.06 },
      { upTo: 512_000, usd: 0.04 },
      { upTo: 1_048_576, usd: 0.03 },
      { upTo: 5_242_880, usd: 0.025 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.02 },
    ] satisfies readonly Tier[],
    /** Request bodies carried from the edge to the origin. */
    toOriginUsdPerGb: 0.02,
  },
  xray: {
    source: 'aws.amazon.com/xray/pricing',
    usdPerMillionTracesRecorded: 5.0,
    /** The default sampling rule: the first request each second, then 5 % of the rest. */
    defaultSampledShare: 0.05,
  },
} as const;

/** The cost of `quantity` (per month) under graduated tiers. */
export function tieredCost(quantity: number, tiers: readonly Tier[]): number {
  let cost = 0;
  let floor = 0;
  for (const tier of tiers) {
    if (quantity <= floor) break;
    cost += (Math.min(quantity, tier.upTo) - floor) * tier.usd;
    floor = tier.upTo;
  }
  return cost;
}

export const DAYS_PER_MONTH = 365 / 12;
/** AWS bills data and storage in binary gigabytes. */
export const GB = 2 ** 30;
