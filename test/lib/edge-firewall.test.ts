import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorResult, type HttpEvent, parseJsonBody } from '../../functions/http/event';
import {
  COUNTED_BODY_RULES,
  DEFAULT_RATE_LIMIT,
  EdgeFirewall,
  integerAbove,
  MAX_BODY_BYTES,
} from '../../lib/constructs/edge-firewall';
import {
  distributionConfig,
  setUpStatelessStack,
  stack,
  synthesize,
  tearDownStatelessStack,
  template,
} from './support/stateless-fixture';

interface WafRule {
  Name: string;
  Statement: Record<string, unknown>;
  Action?: { Block?: { CustomResponse?: { ResponseCode: number; CustomResponseBodyKey: string } } };
  OverrideAction?: unknown;
  VisibilityConfig: { CloudWatchMetricsEnabled: boolean; SampledRequestsEnabled: boolean };
}

function webAcl(from: Template = template) {
  const acls = Object.entries(from.findResources('AWS::WAFv2::WebACL'));
  expect(acls).toHaveLength(1);
  const [logicalId, acl] = acls[0] ?? [];
  return { logicalId, properties: acl?.Properties };
}

function rule(name: string): WafRule {
  const rules: WafRule[] = webAcl().properties.Rules;
  const found = rules.find((candidate) => candidate.Name === name);
  if (!found) throw new Error(`no rule ${name}`);
  return found;
}

/** What the functions answer themselves to a body over their limit. */
function functionAnswerToOversizeBody() {
  const event = { body: 'x'.repeat(MAX_BODY_BYTES + 1), isBase64Encoded: false } as HttpEvent;
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  try {
    parseJsonBody(event);
  } catch (error) {
    const result = errorResult(error, log);
    return { status: result.statusCode, body: JSON.parse(result.body) };
  }
  throw new Error('parseJsonBody accepted a body over MAX_BODY_BYTES');
}

beforeAll(setUpStatelessStack);
afterAll(tearDownStatelessStack);

describe('EdgeFirewall in the stateless stack', () => {
  it('is a CLOUDFRONT web ACL attached to the distribution', () => {
    const { logicalId, properties } = webAcl();

    expect(properties.Scope).toBe('CLOUDFRONT');
    expect(properties.DefaultAction).toEqual({ Allow: {} });
    expect(JSON.stringify(distributionConfig())).toContain(
      JSON.stringify({ 'Fn::GetAtt': [logicalId, 'Arn'] }),
    );
  });

  it('blocks an IP above the rate limit with the app’s 429 JSON', () => {
    const rateRule = rule('RateLimitPerIp');

    expect(rateRule.Statement).toEqual({
      RateBasedStatement: { AggregateKeyType: 'IP', Limit: DEFAULT_RATE_LIMIT, EvaluationWindowSec: 300 },
    });
    const key = rateRule.Action?.Block?.CustomResponse?.CustomResponseBodyKey ?? '';
    expect(rateRule.Action?.Block?.CustomResponse?.ResponseCode).toBe(429);
    expect(JSON.parse(webAcl().properties.CustomResponseBodies[key].Content).error.code).toBe('rate_limited');
  });

  it('runs the AWS common rule set, counting (not blocking) only its body rules', () => {
    const common = rule('AwsCommonRuleSet');
    const group = (common.Statement.ManagedRuleGroupStatement ?? {}) as Record<string, unknown>;

    expect(group).toMatchObject({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' });
    expect(common.OverrideAction).toEqual({ None: {} });
    expect(group.RuleActionOverrides).toEqual(
      COUNTED_BODY_RULES.map((name) => ({ Name: name, ActionToUse: { Count: {} } })),
    );
    expect(COUNTED_BODY_RULES).toContain('SizeRestrictions_BODY');
    expect(COUNTED_BODY_RULES.every((name) => name.endsWith('_BODY'))).toBe(true);
  });

  it('answers a POST declaring a body over the functions’ limit exactly as the functions do: 413 and their JSON', () => {
    const sizeRule = rule('BodyTooLarge');
    const response = sizeRule.Action?.Block?.CustomResponse;
    const edgeBody = JSON.parse(
      webAcl().properties.CustomResponseBodies[response?.CustomResponseBodyKey ?? ''].Content,
    );
    const statements = JSON.stringify(sizeRule.Statement);

    expect({ status: response?.ResponseCode, body: edgeBody }).toEqual(functionAnswerToOversizeBody());
    expect(statements).toContain('"SearchString":"POST"');
    expect(statements).toContain('"Name":"content-length"');
    expect(statements).toContain(JSON.stringify(integerAbove(MAX_BODY_BYTES)));
  });

  it('uses the functions’ body limit: a body of exactly MAX_BODY_BYTES passes their check', () => {
    const body = JSON.stringify('x'.repeat(MAX_BODY_BYTES - 2));

    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect(parseJsonBody({ body, isBase64Encoded: false } as HttpEvent)).toHaveLength(MAX_BODY_BYTES - 2);
  });

  it('publishes metrics and sampled requests for every rule and logs blocked requests without Authorization', () => {
    const rules: WafRule[] = webAcl().properties.Rules;

    for (const each of rules) {
      expect(each.VisibilityConfig, each.Name).toMatchObject({
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: true,
      });
    }
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      ResourceArn: { 'Fn::GetAtt': [webAcl().logicalId, 'Arn'] },
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }],
      LoggingFilter: Match.objectLike({ DefaultBehavior: 'DROP' }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `aws-waf-logs-${stack.stackName}`,
    });
  });
});

describe('EdgeFirewall options', () => {
  it('takes another rate limit, and refuses one WAF would', () => {
    const { code } = synthesize({ firewall: { rateLimit: 5_000 } });

    expect(JSON.stringify(webAcl(Template.fromStack(code)).properties.Rules)).toContain('"Limit":5000');
    expect(() => synthesize({ firewall: { rateLimit: 5 } })).toThrow(/wafRateLimit/);
  });

  it('attaches a given web ACL instead of creating one', () => {
    const arn = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/chat/0123';
    const withExisting = Template.fromStack(synthesize({ webAclArn: arn }).code);

    withExisting.resourceCountIs('AWS::WAFv2::WebACL', 0);
    withExisting.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ WebACLId: arn }),
    });
  });

  it('refuses a stack outside us-east-1, where CloudFront cannot use it', () => {
    const elsewhere = new Stack(new App(), 'Elsewhere', { env: { region: 'eu-west-1' } });

    expect(() => new EdgeFirewall(elsewhere, 'Firewall')).toThrow(/us-east-1/);
  });
});

describe('integerAbove', () => {
  it.each([0, 9, 10, 99, 190, 1_000, 65_536, MAX_BODY_BYTES])(
    'matches exactly the integers above %i',
    (limit) => {
      const pattern = new RegExp(integerAbove(limit));
      const candidates = [0, 1, 9, 10, 11, 99, 100, 101, 189, 191, 999, 1_001, 65_535, 65_537, 10 ** 9];
      for (let offset = -12; offset <= 12; offset += 1) candidates.push(limit + offset);

      for (const value of candidates.filter((candidate) => candidate >= 0)) {
        expect(pattern.test(String(value)), `${value} vs ${limit}`).toBe(value > limit);
        expect(pattern.test(`00${value}`), `00${value} vs ${limit}`).toBe(value > limit);
      }
      expect(pattern.test('')).toBe(false);
      expect(pattern.test('12a')).toBe(false);
      // WAF's limit on a regex string.
      expect(integerAbove(limit).length).toBeLessThanOrEqual(512);
    },
  );
});
