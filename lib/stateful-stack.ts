import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import {
  AccountRecovery,
  UserPool,
  type UserPoolClient,
  UserPoolEmail,
  type UserPoolGroup,
  VerificationEmailStyle,
} from 'aws-cdk-lib/aws-cognito';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { PASSWORD_POLICY } from '../contract/password-policy';
import { byId } from './constructs/by-id';
import {
  type KeyDefinition,
  PREMIUM_GROUP,
  type TableDefinition,
  tables,
  turnWritesQueue,
} from './resources';

export type TableId = (typeof tables)[number]['id'];

/**
 * Which tables hold data that must outlive the stack. Keyed by every table id, so adding a table to
 * lib/resources.ts fails to compile until someone decides this for it.
 * - ChatTable: the users' history — permanent: retained on stack deletion, deletion protection, PITR.
 * - FleetTable: load figures rewritten by the heartbeat every interval — disposable.
 * - ServerRegistryTable: the servers operators registered (npm run fleet) — kept: losing it stops routing.
 */
const DURABLE_TABLES: Readonly<Record<TableId, boolean>> = {
  ChatTable: true,
  FleetTable: false,
  ServerRegistryTable: true,
};

const attribute = (key: KeyDefinition) => ({
  name: key.name,
  type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

export interface StatefulStackProps extends StackProps {
  /** Subscribed (by email, after confirmation) to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /**
   * Send the pool's emails (sign-up and reset codes) through SES from this verified address. Without it
   * Cognito's own sender is used, which has a small daily quota (README, "Accounts").
   * @default Cognito's default email
   */
  readonly sesFromEmail?: string;
}

/**
 * Everything that holds data: tables, the turn-writes queue and its DLQ, the user pool, and the alarm
 * topic (its confirmed email subscriptions are state too: a recreated topic would lose them).
 * Deployed separately from the functions (StatelessStack) so code redeploys never touch data.
 * Consumers receive these through typed properties, passed as props in bin/app.ts.
 */
export class StatefulStack extends Stack {
  public readonly tables: Readonly<Record<TableId, Table>>;
  public readonly turnWritesQueue: Queue;
  public readonly turnWritesDlq: Queue;
  public readonly turnWritesDlqAlarm: Alarm;
  /** Every alarm of the app publishes here (ALARM and OK). */
  public readonly alarmTopic: Topic;
  public readonly userPool: UserPool;
  public readonly premiumGroup: UserPoolGroup;
  public readonly userPoolClient: UserPoolClient;

  public constructor(scope: Construct, id: string, props: StatefulStackProps = {}) {
    super(scope, id, props);

    // Not encrypted with the AWS-managed SNS key: CloudWatch alarms cannot publish to a topic under
    // it (its key policy cannot be extended to the CloudWatch service). Alarm texts hold no user data.
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Chat app alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    this.tables = byId(tables, (definition) => this.createTable(definition));
    // `SERVER_REGISTRY_TABLE_NAME=<this> npm run fleet -- add …` registers servers against the deployment.
    new CfnOutput(this, 'ServerRegistryTableName', { value: this.tables.ServerRegistryTable.tableName });

    const { deadLetter } = turnWritesQueue;
    this.turnWritesDlq = new Queue(this, deadLetter.id, {
      retentionPeriod: Duration.days(deadLetter.retentionDays),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.turnWritesQueue = new Queue(this, turnWritesQueue.id, {
      // Consumed by PersistTurns: visibility ≥ 6 × its timeout (AWS guidance; checked at synth).
      visibilityTimeout: Duration.seconds(turnWritesQueue.visibilityTimeoutSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.turnWritesDlq, maxReceiveCount: deadLetter.maxReceiveCount },
    });
    // Any message in the DLQ is a turn that never reached the chat table: someone must look.
    this.turnWritesDlqAlarm = new Alarm(this, `${deadLetter.id}NotEmpty`, {
      alarmDescription: 'Turn writes failed repeatedly and are parked in the DLQ: history is missing turns.',
      metric: this.turnWritesDlq.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.turnWritesDlqAlarm.addAlarmAction(new SnsAction(this.alarmTopic));
    this.turnWritesDlqAlarm.addOkAction(new SnsAction(this.alarmTopic));

    this.userPool = new UserPool(this, 'UserPool', {
      signInAliases: { email: true },
      signInCaseSensitive: false,
      selfSignUpEnabled: true,
      autoVerify: { email: true },
      // Custom email text only through SES: the API reference lists it as not allowed with COGNITO_DEFAULT.
      userVerification: {
        emailStyle: VerificationEmailStyle.CODE,
        ...(props.sesFromEmail
          ? {
              emailSubject: 'Your Chat verification code',
              emailBody: 'Your Chat verification code is {####}. It expires in 24 hours.',
            }
          : {}),
      },
      email: props.sesFromEmail
        ? UserPoolEmail.withSES({ fromEmail: props.sesFromEmail })
        : UserPoolEmail.withCognito(),
      standardAttributes: { email: { required: true, mutable: true } },
      // Shared with the web client, which checks a new password against it before sign-up.
      passwordPolicy: { ...PASSWORD_POLICY, tempPasswordValidity: Duration.days(3) },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Accounts own the permanent history: never deleted with the stack.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.premiumGroup = this.userPool.addGroup('PremiumGroup', {
      groupName: PREMIUM_GROUP,
      description: 'Premium tier: higher limits (read from the cognito:groups claim of the ID token).',
    });
    // A browser client: it cannot keep a secret, so none is generated.
    this.userPoolClient = this.userPool.addClient('WebClient', {
      generateSecret: false,
      // ALLOW_REFRESH_TOKEN_AUTH is added by CDK whenever explicit flows are set.
      authFlows: { userPassword: true, userSrp: true },
      // No hosted UI: the web app signs in through the API, so no OAuth flows or callback URLs.
      disableOAuth: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
    });
  }

  private createTable(definition: TableDefinition & { readonly id: TableId }): Table {
    const durable = DURABLE_TABLES[definition.id];
    const table = new Table(this, definition.id, {
      partitionKey: attribute(definition.partitionKey),
      sortKey: definition.sortKey ? attribute(definition.sortKey) : undefined,
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: definition.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: durable },
      deletionProtection: durable,
      removalPolicy: durable ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of definition.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
        projectionType: ProjectionType[index.projection],
      });
    }
    return table;
  }
}
