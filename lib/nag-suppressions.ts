import { type App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { backgroundFunctions, routes } from './resources';
import { StatefulStack } from './stateful-stack';
import { type FunctionDefinition, StatelessStack } from './stateless-stack';

/**
 * cdk-nag's AwsSolutions pack on every stack of the app, and every finding the design accepts,
 * suppressed here and only here, each with its reason. A finding not listed is an error annotation:
 * `cdk synth` (npm run synth, CI) fails on it. Call after the stacks are built (bin/app.ts, tests).
 */
export function applyNag(app: App): void {
  Aspects.of(app).add(new AwsSolutionsChecks());
  for (const child of app.node.children) {
    if (child instanceof StatefulStack) suppressStateful(child);
    if (child instanceof StatelessStack) suppressStateless(child);
  }
}

const BASIC_EXECUTION_ROLE =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const VPC_ACCESS_ROLE =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole';

function suppressStateful(stack: StatefulStack): void {
  NagSuppressions.addResourceSuppressions(stack.userPool, [
    {
      id: 'AwsSolutions-COG2',
      reason:
        'MFA stays optional for a consumer chat app: accounts hold chat history only, no payment or ' +
        'admin rights; the 12-character password policy and email verification apply to everyone.',
    },
    {
      id: 'AwsSolutions-COG8',
      reason:
        'Essentials feature plan: Plus (threat protection) is billed per monthly active user; abuse is ' +
        'bounded by the WAF rate limit on the API and by Cognito’s own sign-in quotas.',
    },
  ]);
  NagSuppressions.addResourceSuppressions(stack.tables.FleetTable, [
    {
      id: 'AwsSolutions-DDB3',
      reason:
        'FleetTable holds the heartbeat’s load view, rewritten every 0.5 s from the servers’ metrics: ' +
        'nothing to restore, so no point-in-time recovery (the durable tables have it).',
    },
  ]);
}

function suppressStateless(stack: StatelessStack): void {
  const definitions = new Map<string, FunctionDefinition>(
    [...routes, ...backgroundFunctions].map((each) => [each.id, each]),
  );
  for (const [id, fn] of stack.functions) {
    const stopInboxes = definitions.get(id)?.stopInboxes;
    NagSuppressions.addResourceSuppressions(
      fn,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'AWSLambdaBasicExecutionRole grants only CreateLogGroup/CreateLogStream/PutLogEvents, what ' +
            'every function needs to log; a copy of it as an inline policy would grant the same.',
          appliesTo: [BASIC_EXECUTION_ROLE],
        },
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'With a private fleet (context inferenceSubnetIds) the fleet-facing functions need ' +
            'AWSLambdaVPCAccessExecutionRole: only the network-interface calls Lambda makes to join the subnets.',
          appliesTo: [VPC_ACCESS_ROLE],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'CDK’s table grants cover the table’s own secondary indexes (`<table>/index/*`): the ' +
            'function queries them (history by conversation, in-flight turns for the sweeper).',
          // `<table>.Arn/index/*`, or its import from the stateful stack.
          appliesTo: [{ regex: '/^Resource::[^*]+\\/index\\/\\*$/' }],
        },
        ...(stopInboxes
          ? [
              {
                id: 'AwsSolutions-IAM5',
                reason:
                  'Stop inboxes are SQS queues each container creates at run time (`<stack>-stop-<ulid>`), ' +
                  'so they are granted by this stack’s name prefix; no other queue matches it.',
                appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:sqs:[^*]+-stop-\\*$/' }],
              },
            ]
          : []),
        ...(stopInboxes === 'sweep'
          ? [
              {
                id: 'AwsSolutions-IAM5',
                reason:
                  'sqs:ListQueues has no resource-level permission (it must be "*"); it only lists names, ' +
                  'filtered by the stop-inbox prefix, so the sweeper can delete abandoned inboxes.',
                appliesTo: ['Resource::*'],
              },
            ]
          : []),
      ],
      true,
    );
  }

  NagSuppressions.addResourceSuppressions(stack.web.distribution, [
    {
      id: 'AwsSolutions-CFR1',
      reason: 'A public chat app for users anywhere: no country is excluded.',
    },
    {
      id: 'AwsSolutions-CFR4',
      reason:
        'The distribution uses the default *.cloudfront.net certificate, with which CloudFront cannot ' +
        'raise the minimum viewer TLS version; a custom domain with an ACM certificate would set TLSv1.2_2021.',
    },
  ]);
  NagSuppressions.addResourceSuppressions(stack.originSecret, [
    {
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the origin secret takes a CloudFront deploy (the distribution sends the version named by ' +
        'context originSecretVersionId), so it is an operator step in the README runbook, not a rotation Lambda; ' +
        'the functions accept the current and the previous value meanwhile.',
    },
  ]);
  NagSuppressions.addResourceSuppressions(stack.web.logBucket, [
    {
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself: logging it would need yet another bucket, without end.',
    },
  ]);
  for (const handler of cdkSingletons(stack, 'Custom::CDKBucketDeployment')) {
    NagSuppressions.addResourceSuppressions(
      handler,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason: 'CDK’s BucketDeployment handler: its role and runtime are CDK’s, not configurable here.',
          appliesTo: [BASIC_EXECUTION_ROLE],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'CDK’s BucketDeployment handler copies the web assets from the CDK asset bucket into the site ' +
            'bucket and invalidates the distribution: CDK grants object-level wildcards on those two buckets.',
        },
        {
          id: 'AwsSolutions-L1',
          reason: 'CDK’s BucketDeployment handler: CDK pins its runtime, it runs only at deploy time.',
        },
      ],
      true,
    );
  }
}

/** Stack-level singletons CDK adds (their construct ids start with `prefix`). */
function cdkSingletons(stack: StatelessStack, prefix: string): IConstruct[] {
  return stack.node.children.filter((child) => child.node.id.startsWith(prefix));
}
