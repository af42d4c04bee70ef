import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { ErrorBody, ErrorCode } from '../../contract/errors';
import { MAX_REQUEST_BODY_BYTES } from '../../contract/http-api';

/** The web ACL's rules by name (each is billed per month: bench/cost/pricing.ts counts them). */
export const WEB_ACL_RULES = {
  rateLimit: 'RateLimitPerIp',
  bodyTooLarge: 'BodyTooLarge',
  commonRuleSet: 'AwsCommonRuleSet',
} as const;

/** The functions' own body limit: the edge refuses exactly the bodies they would, before they cross CloudFront. */
export const MAX_BODY_BYTES = MAX_REQUEST_BODY_BYTES;

/**
 * Requests per IP per 5 minutes before WAF blocks that IP (for as long as it stays above). A turn costs
 * 1–3 API requests and a page load ~5 (WAF counts cached files too): a user sending a prompt every 10 s
 * makes ~200, so 2,000 leaves 10× headroom for one person or room for ~10 busy users behind one NAT,
 * while a script is cut off within seconds. Raise it with `-c wafRateLimit=…` for large offices.
 */
export const DEFAULT_RATE_LIMIT = 2_000;
export const RATE_LIMIT_WINDOW_SECONDS = 300;

/**
 * Rules of AWSManagedRulesCommonRuleSet that inspect the body, counted instead of blocking. The body is a
 * prompt: free text that legitimately holds code, HTML, paths and URLs (the XSS, LFI, RFI and SSRF
 * rules would refuse "what does <script> do?"), and up to 256 KB (SizeRestrictions_BODY refuses > 8 KB).
 * The prompt is never rendered as HTML nor fetched; BodyTooLarge below takes over the size check.
 */
export const COUNTED_BODY_RULES = [
  'SizeRestrictions_BODY',
  'CrossSiteScripting_BODY',
  'GenericLFI_BODY',
  'GenericRFI_BODY',
  'EC2MetaDataSSRF_BODY',
] as const;

/** The app's error shape (contract/errors.ts) for what the edge refuses itself, with the app's status. */
export const EDGE_ERRORS = {
  PayloadTooLarge: {
    status: 413,
    body: {
      error: {
        code: 'payload_too_large',
        message: `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
      },
    },
  },
  RateLimited: {
    status: 429,
    body: {
      error: {
        code: 'rate_limited',
        message: 'Too many requests from your network. Try again in a few minutes.',
        // WAF renames custom response headers (x-amzn-waf-…), so no Retry-After: the body says it. The
        // block lasts while the IP stays over the limit in the sliding window; a minute is a fair retry.
        retry_after_seconds: 60,
      },
    },
  },
} as const satisfies Record<string, { status: number; body: ErrorBody & { error: { code: ErrorCode } } }>;

type EdgeError = keyof typeof EDGE_ERRORS;

/**
 * A regular expression (WAF's PCRE subset: no groups, no look-around) matching the decimal integers
 * greater than `limit`: longer numbers, or same-length ones that exceed it at their first differing digit.
 */
export function integerAbove(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`integerAbove: bad limit ${limit}`);
  const digits = String(limit);
  const alternatives = [`[1-9]\\d{${digits.length},}`];
  for (let index = 0; index < digits.length; index += 1) {
    const digit = Number(digits[index]);
    if (digit === 9) continue;
    const rest = digits.length - index - 1;
    alternatives.push(`${digits.slice(0, index)}[${digit + 1}-9]${rest > 0 ? `\\d{${rest}}` : ''}`);
  }
  return alternatives.map((alternative) => `^0*${alternative}$`).join('|');
}

export interface EdgeFirewallProps {
  /** Requests per IP per 5 minutes. @default DEFAULT_RATE_LIMIT */
  readonly rateLimit?: number;
}

/**
 * The distribution's web ACL (scope CLOUDFRONT, so its stack must deploy to us-east-1): a per-IP rate
 * limit, a 413 for declared bodies over the app's limit, and the AWS common rule set. Every rule
 * publishes CloudWatch metrics and sampled requests; blocked requests are logged (Authorization redacted).
 *
 * Why the size rule reads Content-Length rather than the body: WAF sees at most the first 16 KB of a body
 * behind CloudFront (64 KB if AssociationConfig pays for it), less than the app's 256 KB, so a body-size
 * constraint with OversizeHandling MATCH would block every body over 16 KB — including a 32,000-character
 * prompt in a non-Latin script (~96 KB). The declared length is exact at any size and costs no body
 * inspection, so the default 16 KB (no AssociationConfig) is kept. A body sent without Content-Length
 * (chunked) passes to the function, which answers the same 413.
 */
export class EdgeFirewall extends Construct {
  public readonly webAcl: CfnWebACL;
  public readonly logGroup: LogGroup;

  public constructor(scope: Construct, id: string, props: EdgeFirewallProps = {}) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== 'us-east-1') {
      throw new Error(`A CloudFront web ACL must be created in us-east-1, not ${region} (see bin/app.ts)`);
    }
    const rateLimit = props.rateLimit ?? DEFAULT_RATE_LIMIT;
    // WAF's bounds for a rate-based rule.
    if (!Number.isInteger(rateLimit) || rateLimit < 10 || rateLimit > 2_000_000_000) {
      throw new Error(`wafRateLimit must be an integer from 10 to 2,000,000,000, not ${rateLimit}`);
    }

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      description: 'Chat app edge: per-IP rate limit, body size limit, AWS common rule set',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('ChatEdge'),
      customResponseBodies: Object.fromEntries(
        Object.entries(EDGE_ERRORS).map(([key, { body }]) => [
          key,
          { contentType: 'APPLICATION_JSON', content: JSON.stringify(body) },
        ]),
      ),
      rules: [
        {
          name: WEB_ACL_RULES.rateLimit,
          priority: 0,
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              limit: rateLimit,
              evaluationWindowSec: RATE_LIMIT_WINDOW_SECONDS,
            },
          },
          action: block('RateLimited'),
          visibilityConfig: visibility(WEB_ACL_RULES.rateLimit),
        },
        {
          name: WEB_ACL_RULES.bodyTooLarge,
          priority: 1,
          statement: {
            andStatement: {
              statements: [
                {
                  byteMatchStatement: {
                    fieldToMatch: { method: {} },
                    positionalConstraint: 'EXACTLY',
                    searchString: 'POST',
                    textTransformations: [{ priority: 0, type: 'NONE' }],
                  },
                },
                {
                  regexMatchStatement: {
                    // `any` in CDK's types: written as CloudFormation spells it.
                    fieldToMatch: { singleHeader: { Name: 'content-length' } },
                    regexString: integerAbove(MAX_BODY_BYTES),
                    textTransformations: [{ priority: 0, type: 'NONE' }],
                  },
                },
              ],
            },
          },
          action: block('PayloadTooLarge'),
          visibilityConfig: visibility(WEB_ACL_RULES.bodyTooLarge),
        },
        {
          name: WEB_ACL_RULES.commonRuleSet,
          priority: 2,
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              ruleActionOverrides: COUNTED_BODY_RULES.map((name) => ({ name, actionToUse: { count: {} } })),
            },
          },
          overrideAction: { none: {} },
          visibilityConfig: visibility(WEB_ACL_RULES.commonRuleSet),
        },
      ],
    });

    // WAF requires the `aws-waf-logs-` prefix. Only blocked requests: every allowed one would cost
    // ingestion at the app's request rate, and the metrics and sampled requests already show them.
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-${Stack.of(this).stackName}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF refuses the `:*` suffix of LogGroup.logGroupArn.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: this.logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }],
          },
        ],
      },
    });
  }

  /** What CloudFront's `webAclId` takes for a WAFv2 ACL. */
  public get webAclArn(): string {
    return this.webAcl.attrArn;
  }
}

function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

function block(error: EdgeError): CfnWebACL.RuleActionProperty {
  return {
    block: {
      customResponse: { responseCode: EDGE_ERRORS[error].status, customResponseBodyKey: error },
    },
  };
}
