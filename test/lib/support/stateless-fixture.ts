/**
 * The stateless stack synthesized once per test file (no bundling, stub handlers), and the lookups the
 * infra tests share. `setUpStatelessStack` / `tearDownStatelessStack` go in beforeAll / afterAll.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import { CfnFunction, CfnUrl } from 'aws-cdk-lib/aws-lambda';
import { CfnTopic } from 'aws-cdk-lib/aws-sns';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { expect } from 'vitest';
import type { AppFunction } from '../../../lib/constructs/app-function';
import { backgroundFunctions, routes } from '../../../lib/resources';
import { StatefulStack } from '../../../lib/stateful-stack';
import { StatelessStack, type StatelessStackProps } from '../../../lib/stateless-stack';

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

export interface CacheBehavior {
  readonly PathPattern: string;
  readonly TargetOriginId: string;
  readonly AllowedMethods: string[];
  readonly CachePolicyId: string;
  readonly OriginRequestPolicyId: string;
  readonly ViewerProtocolPolicy: string;
}

export interface Origin {
  readonly Id: string;
  readonly DomainName: unknown;
  readonly OriginAccessControlId?: unknown;
  readonly CustomOriginConfig?: {
    readonly OriginReadTimeout?: number;
    readonly OriginProtocolPolicy: string;
  };
}

/** Managed CloudFront policies (fixed ids, documented by AWS). */
export const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
export const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

export let projectRoot: string;
export let stateful: StatefulStack;
export let stack: StatelessStack;
export let template: Template;
export let statefulTemplate: Template;

/** Stub handlers, lock file and web folder: these tests depend on neither the real code nor bundling. */
export function writeStubProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'chat-infra-test-'));
  writeFileSync(path.join(root, 'package-lock.json'), '{}');
  mkdirSync(path.join(root, 'functions'));
  mkdirSync(path.join(root, 'web'));
  for (const { entry } of [...routes, ...backgroundFunctions]) {
    writeFileSync(path.join(root, entry), 'export const handler = async () => {};\n');
  }
  return root;
}

/** An app that never bundles, with a stateful stack and a stateless stack built from it. */
export function synthesize(overrides: Partial<StatelessStackProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const data = new StatefulStack(app, 'TestStateful');
  const code = new StatelessStack(app, 'TestStateless', {
    tables: data.tables,
    turnWritesQueue: data.turnWritesQueue,
    turnWritesDlq: data.turnWritesDlq,
    userPool: data.userPool,
    userPoolClient: data.userPoolClient,
    alarmTopic: data.alarmTopic,
    otherAlarms: [data.turnWritesDlqAlarm],
    projectRoot,
    ...overrides,
  });
  return { data, code };
}

export function fn(id: string): AppFunction {
  const found = stack.functions.get(id);
  if (!found) throw new Error(`no function ${id}`);
  return found;
}

export function functionLogicalId(id: string): string {
  const cfn = fn(id).node.defaultChild;
  if (!(cfn instanceof CfnFunction)) throw new Error(`${id} has no CfnFunction`);
  return stack.getLogicalId(cfn);
}

export function functionProperties(id: string) {
  return template.toJSON().Resources[functionLogicalId(id)].Properties;
}

export function urlLogicalId(routeId: string): string {
  const cfn = stack.functionUrls.get(routeId)?.node.defaultChild;
  if (!(cfn instanceof CfnUrl)) throw new Error(`${routeId} has no CfnUrl`);
  return stack.getLogicalId(cfn);
}

/** Resources of the stateful stack appear in the stateless one as imports naming their logical id. */
export function statefulLogicalId(cfn: unknown): string {
  if (!(cfn instanceof CfnTable) && !(cfn instanceof CfnQueue) && !(cfn instanceof CfnTopic)) {
    throw new Error('expected an L1 table, queue or topic');
  }
  return stateful.getLogicalId(cfn);
}

export const chatTableLogicalId = () => statefulLogicalId(stateful.tables.ChatTable.node.defaultChild);
export const fleetTableLogicalId = () => statefulLogicalId(stateful.tables.FleetTable.node.defaultChild);
export const topicLogicalId = () => statefulLogicalId(stateful.alarmTopic.node.defaultChild);

/** Allowed actions of the function's role on resources whose reference mentions `resourceHint`. */
export function allowedActions(id: string, resourceHint: string): Set<string> {
  const role = fn(id).role?.node.defaultChild;
  if (!(role instanceof CfnRole)) throw new Error(`${id} has no role`);
  const roleRef = { Ref: stack.getLogicalId(role) };
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([roleRef]) },
  });
  const actions = new Set<string>();
  for (const policy of Object.values(policies)) {
    const statements: Statement[] = policy.Properties.PolicyDocument.Statement;
    for (const statement of statements) {
      if (statement.Effect !== 'Allow' || !JSON.stringify(statement.Resource).includes(resourceHint))
        continue;
      for (const action of [statement.Action].flat()) actions.add(action);
    }
  }
  return actions;
}

export function distributionConfig(): {
  CacheBehaviors: CacheBehavior[];
  DefaultCacheBehavior: { TargetOriginId: string; ViewerProtocolPolicy: string };
  Origins: Origin[];
  DefaultRootObject: string;
} {
  const distributions = Object.values(template.findResources('AWS::CloudFront::Distribution'));
  expect(distributions).toHaveLength(1);
  return distributions[0]?.Properties.DistributionConfig;
}

export function origin(id: string): Origin {
  const found = distributionConfig().Origins.find((candidate) => candidate.Id === id);
  if (!found) throw new Error(`no origin ${id}`);
  return found;
}

/** The one alarm whose properties match, as a plain object. */
export function alarmWith(properties: Record<string, unknown>) {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: properties }));
  expect(alarms, JSON.stringify(properties)).toHaveLength(1);
  return alarms[0]?.Properties;
}

export function setUpStatelessStack(): void {
  projectRoot = writeStubProject();
  ({ data: stateful, code: stack } = synthesize());
  template = Template.fromStack(stack);
  statefulTemplate = Template.fromStack(stateful);
}

export function tearDownStatelessStack(): void {
  rmSync(projectRoot, { recursive: true, force: true });
}
