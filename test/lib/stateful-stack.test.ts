import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { CfnTopic } from 'aws-cdk-lib/aws-sns';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { chatTable, fleetTable, PREMIUM_GROUP, turnWritesQueue } from '../../lib/resources';
import { StatefulStack } from '../../lib/stateful-stack';

let stack: StatefulStack;
let template: Template;

function logicalIdOf(cfn: unknown): string {
  if (!(cfn instanceof CfnTable) && !(cfn instanceof CfnQueue)) {
    throw new Error('expected an L1 table or queue');
  }
  return stack.getLogicalId(cfn);
}

function alarmTopic(): CfnTopic {
  const cfn = stack.alarmTopic.node.defaultChild;
  if (!(cfn instanceof CfnTopic)) throw new Error('expected an L1 topic');
  return cfn;
}

beforeAll(() => {
  // Prepare: no functions here, but keep synth free of bundling like the other infra tests.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = new StatefulStack(app, 'TestStateful');
  template = Template.fromStack(stack);
});

describe('StatefulStack tables', () => {
  it('builds the chat table from its definition: pk HASH, sk RANGE, byConversation GSI, TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: chatTable.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: chatTable.sortKey.name, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byConversation',
          KeySchema: [
            { AttributeName: 'conv', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          // Keys only: the answer is written into the table alone; pages read turns by BatchGetItem.
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
        // The sweeper's index holds quota windows, keys only, keyed by when their leases are over.
        Match.objectLike({
          IndexName: 'byLeases',
          KeySchema: [
            { AttributeName: 'leases', KeyType: 'HASH' },
            { AttributeName: 'sweep_at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
      ]),
      TimeToLiveSpecification: { AttributeName: chatTable.timeToLiveAttribute, Enabled: true },
    });
  });

  it('keeps the chat history: retained, deletion protection, point-in-time recovery', () => {
    const id = logicalIdOf(stack.tables.ChatTable.node.defaultChild);
    const resource = template.toJSON().Resources[id];

    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    expect(resource.Properties.DeletionProtectionEnabled).toBe(true);
    expect(resource.Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
  });

  it('builds the fleet table with a partition key only and on-demand billing', () => {
    const id = logicalIdOf(stack.tables.FleetTable.node.defaultChild);
    const properties = template.toJSON().Resources[id].Properties;

    expect(properties.KeySchema).toEqual([{ AttributeName: fleetTable.partitionKey.name, KeyType: 'HASH' }]);
    expect(properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(properties.GlobalSecondaryIndexes).toBeUndefined();
  });
});

describe('StatefulStack turn-writes queue', () => {
  it('redrives to the DLQ after maxReceiveCount receives, with SSE on both queues', () => {
    const dlqId = logicalIdOf(stack.turnWritesDlq.node.defaultChild);
    const queueId = logicalIdOf(stack.turnWritesQueue.node.defaultChild);
    const resources = template.toJSON().Resources;

    expect(resources[queueId].Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: turnWritesQueue.deadLetter.maxReceiveCount,
    });
    expect(resources[queueId].Properties.VisibilityTimeout).toBe(turnWritesQueue.visibilityTimeoutSeconds);
    expect(resources[queueId].Properties.SqsManagedSseEnabled).toBe(true);
    expect(resources[dlqId].Properties.SqsManagedSseEnabled).toBe(true);
    expect(resources[dlqId].Properties.MessageRetentionPeriod).toBe(
      turnWritesQueue.deadLetter.retentionDays * 24 * 3600,
    );
  });

  it('alarms as soon as one message is visible in the DLQ', () => {
    const dlqId = logicalIdOf(stack.turnWritesDlq.node.defaultChild);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: stack.getLogicalId(alarmTopic()) }],
      OKActions: [{ Ref: stack.getLogicalId(alarmTopic()) }],
    });
  });
});

describe('StatefulStack alarm topic', () => {
  it('exists without subscriptions unless alarmEmail is given', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes alarmEmail to the topic', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });

    // Act
    const withEmail = new StatefulStack(app, 'TestStatefulEmail', { alarmEmail: 'oncall@example.com' });

    // Assess
    Template.fromStack(withEmail).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('StatefulStack user pool', () => {
  it('signs in by email, lets users sign up, verifies email, enforces a strong password', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
  });

  it("emails a code through Cognito's sender, or through SES with the app's own text given sesFromEmail", () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });

    // Act
    const withSes = new StatefulStack(app, 'TestStatefulSes', {
      env: { account: '123456789012', region: 'eu-west-1' },
      sesFromEmail: 'no-reply@example.com',
    });

    // Assess
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      EmailConfiguration: { EmailSendingAccount: 'COGNITO_DEFAULT' },
      VerificationMessageTemplate: Match.objectLike({ DefaultEmailOption: 'CONFIRM_WITH_CODE' }),
    });
    Template.fromStack(withSes).hasResourceProperties('AWS::Cognito::UserPool', {
      EmailConfiguration: Match.objectLike({
        EmailSendingAccount: 'DEVELOPER',
        From: 'no-reply@example.com',
      }),
      VerificationMessageTemplate: Match.objectLike({
        EmailMessage: Match.stringLikeRegexp('Chat verification'),
      }),
    });
  });

  it('has the premium group', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: PREMIUM_GROUP });
  });

  it('has a browser client: password, SRP and refresh flows, no secret, 1 h ID tokens', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: Match.arrayWith([
        'ALLOW_USER_PASSWORD_AUTH',
        'ALLOW_USER_SRP_AUTH',
        'ALLOW_REFRESH_TOKEN_AUTH',
      ]),
      GenerateSecret: false,
      IdTokenValidity: 60,
      TokenValidityUnits: Match.objectLike({ IdToken: 'minutes' }),
    });
  });
});
