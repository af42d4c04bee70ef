/**
 * A private inference fleet (vLLM/TGI in private subnets behind `--api-key`), configured by CDK context:
 * the functions that talk to the fleet run in the given subnets, may read the fleet's key, and, given the
 * VPC, reach the AWS services they call through VPC endpoints instead of a NAT gateway.
 */
import { Stack } from 'aws-cdk-lib';
import { CfnSecurityGroup, CfnVPCEndpoint } from 'aws-cdk-lib/aws-ec2';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SETTINGS } from '../../settings/settings';

export interface PrivateFleetProps {
  /** Subnets the fleet-facing functions run in (they need a route to the servers' port). */
  readonly subnetIds: readonly string[];
  /** Security groups of those functions; the fleet's group must allow them on the servers' port. */
  readonly securityGroupIds: readonly string[];
  /** Secrets Manager secret holding the servers' bearer key. @default no key */
  readonly apiKeySecretArn?: string;
  /**
   * The subnets' VPC and route tables: with them, endpoints for DynamoDB (gateway), SQS, Secrets Manager
   * and Cognito (interface) are created. @default none: the subnets must reach AWS through a NAT gateway
   */
  readonly endpoints?: { readonly vpcId: string; readonly routeTableIds: readonly string[] };
}

/** The raw context values (bin/app.ts); every one optional. */
export interface PrivateFleetContext {
  readonly subnetIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
  readonly apiKeySecretArn?: string;
  readonly vpcId?: string;
  readonly routeTableIds?: readonly string[];
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
/** The random suffix Secrets Manager appends to a secret's name in its full ARN. */
const SECRET_SUFFIX = /-[A-Za-z0-9]{6}$/;

function checkIds(ids: readonly string[], pattern: RegExp, context: string, example: string): void {
  const bad = ids.filter((id) => !pattern.test(id));
  if (bad.length > 0) {
    throw new Error(`Context ${context} must list ids like ${example}; got ${bad.join(', ')}`);
  }
}

/**
 * Checks the context and shapes it, or undefined when no private fleet is configured. A key without
 * subnets is allowed (a fleet reachable over the internet, behind a key); subnets need security groups.
 */
export function privateFleetFromContext(context: PrivateFleetContext): PrivateFleetProps | undefined {
  const { subnetIds = [], securityGroupIds = [], apiKeySecretArn, vpcId, routeTableIds = [] } = context;
  checkIds(subnetIds, /^subnet-[0-9a-f]+$/, 'inferenceSubnetIds', 'subnet-0123abcd');
  checkIds(securityGroupIds, /^sg-[0-9a-f]+$/, 'inferenceSecurityGroupIds', 'sg-0123abcd');
  checkIds(routeTableIds, /^rtb-[0-9a-f]+$/, 'inferenceRouteTableIds', 'rtb-0123abcd');
  if (vpcId !== undefined) checkIds([vpcId], /^vpc-[0-9a-f]+$/, 'inferenceVpcId', 'vpc-0123abcd');
  if (apiKeySecretArn !== undefined && !SECRET_ARN.test(apiKeySecretArn)) {
    throw new Error(
      'Context inferenceApiKeySecretArn must be a Secrets Manager secret ARN ' +
        `(arn:aws:secretsmanager:<region>:<account>:secret:<name>); got ${apiKeySecretArn}`,
    );
  }
  if (subnetIds.length > 0 !== securityGroupIds.length > 0) {
    throw new Error('Contexts inferenceSubnetIds and inferenceSecurityGroupIds go together');
  }
  if ((vpcId !== undefined || routeTableIds.length > 0) && subnetIds.length === 0) {
    throw new Error('Contexts inferenceVpcId and inferenceRouteTableIds need inferenceSubnetIds');
  }
  if ((vpcId === undefined) !== (routeTableIds.length === 0)) {
    // The DynamoDB gateway endpoint needs both: a VPC without its route tables would leave DynamoDB unreachable.
    throw new Error('Contexts inferenceVpcId and inferenceRouteTableIds go together');
  }
  if (subnetIds.length === 0 && apiKeySecretArn === undefined) return undefined;
  return {
    subnetIds,
    securityGroupIds,
    ...(apiKeySecretArn === undefined ? {} : { apiKeySecretArn }),
    ...(vpcId === undefined ? {} : { endpoints: { vpcId, routeTableIds } }),
  };
}

/**
 * The resource to grant GetSecretValue on. A full ARN ends in `-` and 6 random characters; a partial one
 * (the name only, as an operator often copies it) matches the secret only with that suffix wildcarded.
 */
export function secretGrantResource(arn: string): string {
  const name = arn.slice(arn.indexOf(':secret:') + ':secret:'.length);
  return SECRET_SUFFIX.test(name) ? arn : `${arn}-??????`;
}

/** The AWS services the fleet-facing functions call, reached by interface endpoints. */
const INTERFACE_SERVICES = [
  'sqs',
  'secretsmanager',
  // The chat function fetches the user pool's JWKS once per container.
  'cognito-idp',
] as const;

export class PrivateFleetNetwork extends Construct {
  public constructor(
    scope: Construct,
    id: string,
    private readonly props: PrivateFleetProps,
  ) {
    super(scope, id);
    const endpoints = props.endpoints;
    if (!endpoints) return;
    const region = Stack.of(this).region;
    new CfnVPCEndpoint(this, 'DynamoDb', {
      vpcId: endpoints.vpcId,
      serviceName: `com.amazonaws.${region}.dynamodb`,
      vpcEndpointType: 'Gateway',
      routeTableIds: [...endpoints.routeTableIds],
    });
    // The interface endpoints' own group: HTTPS in from the functions' groups, nothing else.
    const endpointGroup = new CfnSecurityGroup(this, 'EndpointSecurityGroup', {
      vpcId: endpoints.vpcId,
      groupDescription: 'Interface endpoints of the chat app: HTTPS from its fleet-facing functions',
      securityGroupIngress: props.securityGroupIds.map((sourceSecurityGroupId) => ({
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        sourceSecurityGroupId,
        description: 'HTTPS from a fleet-facing function',
      })),
    });
    for (const service of INTERFACE_SERVICES) {
      if (service === 'secretsmanager' && props.apiKeySecretArn === undefined) continue;
      new CfnVPCEndpoint(this, `Endpoint-${service}`, {
        vpcId: endpoints.vpcId,
        serviceName: `com.amazonaws.${region}.${service}`,
        vpcEndpointType: 'Interface',
        subnetIds: [...props.subnetIds],
        securityGroupIds: [endpointGroup.attrGroupId],
        privateDnsEnabled: true,
      });
    }
  }

  /** Puts `fn` in the fleet's subnets (when given) and lets it read the fleet's key (when given). */
  public attach(fn: LambdaFunction): void {
    const { subnetIds, securityGroupIds, apiKeySecretArn } = this.props;
    if (subnetIds.length > 0) {
      // L1: the L2 `vpc` prop wants an IVpc, which ids from context alone cannot make without a lookup.
      (fn.node.defaultChild as CfnFunction).vpcConfig = {
        subnetIds: [...subnetIds],
        securityGroupIds: [...securityGroupIds],
      };
      // What Lambda needs to create its network interfaces (CDK adds the same when given a `vpc`).
      fn.role?.addManagedPolicy(
        ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
    }
    if (apiKeySecretArn !== undefined) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secretGrantResource(apiKeySecretArn)],
        }),
      );
      fn.addEnvironment(SETTINGS.inferenceApiKeySecretId.variable, apiKeySecretArn);
    }
  }
}
