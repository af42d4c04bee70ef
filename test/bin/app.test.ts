/**
 * bin/app.ts as `cdk synth` runs it (cdk.json's context, no bundling): cdk-nag's AwsSolutions pack passes
 * on every stack with the suppressions of lib/nag-suppressions.ts, and the web ACL lands in us-east-1.
 */
import { readFileSync } from 'node:fs';
import { App, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyNag } from '../../lib/nag-suppressions';
import { StatefulStack } from '../../lib/stateful-stack';

const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/** A fresh import of bin/app.ts with the environment the CLI would give it. */
async function loadApp(region: string | undefined): Promise<App> {
  vi.resetModules();
  vi.stubEnv('CDK_CONTEXT_JSON', JSON.stringify({ ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }));
  vi.stubEnv('CDK_DEFAULT_REGION', region);
  vi.stubEnv('CDK_DEFAULT_ACCOUNT', region && '123456789012');
  const { app } = await import('../../bin/app');
  return app;
}

function stacks(app: App): Map<string, Stack> {
  return new Map(
    app.node.children
      .filter((child): child is Stack => 'templateOptions' in child)
      .map((s) => [s.node.id, s]),
  );
}

function nagErrors(stack: Stack) {
  return Annotations.fromStack(stack)
    .findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
    .map((finding) => `${finding.id}: ${String(finding.entry.data).split(': ')[0]}`);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('bin/app.ts with cdk-nag', () => {
  it('passes AwsSolutions on every stack, region-agnostic, with the web ACL in the stateless stack', async () => {
    const app = await loadApp(undefined);
    const byId = stacks(app);

    expect([...byId.keys()].sort()).toEqual(['ChatStateful', 'ChatStateless']);
    for (const stack of byId.values()) expect(nagErrors(stack), stack.node.id).toEqual([]);
    const stateless = Template.fromStack(byId.get('ChatStateless') as Stack);
    stateless.resourceCountIs('AWS::WAFv2::WebACL', 1);
  });

  it('outside us-east-1, puts the web ACL in a us-east-1 ChatEdge stack that nag passes too', async () => {
    const app = await loadApp('eu-west-1');
    const byId = stacks(app);
    const edge = byId.get('ChatEdge');
    const stateless = byId.get('ChatStateless');
    if (!edge || !stateless) throw new Error(`stacks: ${[...byId.keys()].join(', ')}`);

    expect(edge.region).toBe('us-east-1');
    Template.fromStack(edge).hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
    const statelessTemplate = Template.fromStack(stateless);
    statelessTemplate.resourceCountIs('AWS::WAFv2::WebACL', 0);
    const distribution = Object.values(statelessTemplate.findResources('AWS::CloudFront::Distribution'))[0];
    // The cross-region reference: read from SSM by CDK's ExportsReader.
    expect(JSON.stringify(distribution?.Properties.DistributionConfig.WebACLId)).toMatch(/ExportsReader/);
    for (const stack of byId.values()) expect(nagErrors(stack), stack.node.id).toEqual([]);
  });

  it('reports what is not suppressed as an error (the check is live)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stateful = new StatefulStack(app, 'Stateful');
    new Bucket(stateful, 'Unlogged');
    applyNag(app);

    expect(nagErrors(stateful)).toEqual(
      expect.arrayContaining([expect.stringMatching(/Unlogged.*AwsSolutions-S1/)]),
    );
  });
});
