/**
 * A private inference fleet by CDK context: the fleet-facing functions (and only they) get the subnets,
 * the VPC execution permissions, the key's secret and its grant; with the VPC id, endpoints replace a NAT.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PrivateFleetProps,
  privateFleetFromContext,
  secretGrantResource,
} from '../../lib/constructs/private-fleet-network';
import { backgroundFunctions, routes } from '../../lib/resources';
import type { StatelessStack } from '../../lib/stateless-stack';
import { SETTINGS } from '../../settings/settings';
import {
  template as publicTemplate,
  type Statement,
  setUpStatelessStack,
  synthesize,
  tearDownStatelessStack,
} from './support/stateless-fixture';

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet-key';
// The two chat routes (POST /chat and its OpenAI-protocol twin) and the heartbeat.
const FLEET_FACING = ['PostChat', 'PostChatCompletions', 'RunHeartbeat'];
const ALL = [...routes, ...backgroundFunctions].map((definition) => definition.id);

function fleetProps(): PrivateFleetProps {
  const props = privateFleetFromContext({
    subnetIds: ['subnet-a', 'subnet-b'],
    securityGroupIds: ['sg-1'],
    apiKeySecretArn: SECRET,
  });
  if (!props) throw new Error('expected a private fleet');
  return props;
}

let keyed: { stack: StatelessStack; template: Template };
let withEndpoints: Template;

beforeAll(() => {
  setUpStatelessStack();
  const { code } = synthesize({ privateFleet: fleetProps() });
  keyed = { stack: code, template: Template.fromStack(code) };
  const { code: endpointsStack } = synthesize({
    privateFleet: { ...fleetProps(), endpoints: { vpcId: 'vpc-1', routeTableIds: ['rtb-1', 'rtb-2'] } },
  });
  withEndpoints = Template.fromStack(endpointsStack);
});
afterAll(tearDownStatelessStack);

function properties(stack: StatelessStack, template: Template, id: string) {
  const fn = stack.functions.get(id);
  if (!fn?.node.defaultChild) throw new Error(`no function ${id}`);
  return template.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties;
}

/** Function ids whose role may call GetSecretValue on the fleet key. */
function secretReaders(stack: StatelessStack, template: Template): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  return ALL.filter((id) => {
    const role = stack.functions.get(id)?.role?.node.defaultChild;
    const roleRef = JSON.stringify({ Ref: stack.getLogicalId(role as never) });
    return policies.some(
      (policy) =>
        JSON.stringify(policy.Properties.Roles).includes(roleRef) &&
        (policy.Properties.PolicyDocument.Statement as Statement[]).some(
          (statement) =>
            [statement.Action].flat().includes('secretsmanager:GetSecretValue') &&
            JSON.stringify(statement.Resource) === JSON.stringify(`${SECRET}-??????`),
        ),
    );
  });
}

describe('a private inference fleet by context', () => {
  it('puts PostChat, PostChatCompletions and RunHeartbeat, and no other function, in the subnets', () => {
    for (const id of ALL) {
      const vpcConfig = properties(keyed.stack, keyed.template, id).VpcConfig;
      if (FLEET_FACING.includes(id)) {
        expect(vpcConfig, id).toEqual({ SubnetIds: ['subnet-a', 'subnet-b'], SecurityGroupIds: ['sg-1'] });
      } else {
        expect(vpcConfig, id).toBeUndefined();
      }
    }
  });

  it('marks exactly the fleet-facing definitions, who are the readers of the key setting', () => {
    const marked = [...routes, ...backgroundFunctions]
      .filter((definition) => 'reachesFleet' in definition && definition.reachesFleet)
      .map((definition) => definition.id);
    expect(marked).toEqual(FLEET_FACING);
    expect([...SETTINGS.inferenceApiKeySecretId.readBy]).toEqual(FLEET_FACING);
  });

  it('gives their roles the VPC execution policy', () => {
    for (const id of FLEET_FACING) {
      const role = keyed.stack.functions.get(id)?.role?.node.defaultChild;
      const roleJson = JSON.stringify(
        keyed.template.toJSON().Resources[keyed.stack.getLogicalId(role as never)].Properties,
      );
      expect(roleJson, id).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
    }
  });

  it('grants GetSecretValue on the key (suffix wildcarded) to exactly those functions, and names it', () => {
    expect(secretReaders(keyed.stack, keyed.template)).toEqual(FLEET_FACING);
    for (const id of ALL) {
      const variables = properties(keyed.stack, keyed.template, id).Environment.Variables;
      expect(variables[SETTINGS.inferenceApiKeySecretId.variable], id).toBe(
        FLEET_FACING.includes(id) ? SECRET : undefined,
      );
    }
  });

  it('creates no endpoints without the VPC id', () => {
    keyed.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it('creates a DynamoDB gateway endpoint and SQS, Secrets Manager and Cognito interface endpoints', () => {
    const endpoints = Object.values(withEndpoints.findResources('AWS::EC2::VPCEndpoint')).map(
      (endpoint) => endpoint.Properties,
    );
    const service = (name: unknown) => JSON.stringify(name).replace(/.*\.(\S+?)"\]\]\}$/, '$1');
    expect(endpoints.map((endpoint) => [service(endpoint.ServiceName), endpoint.VpcEndpointType])).toEqual([
      ['dynamodb', 'Gateway'],
      ['sqs', 'Interface'],
      ['secretsmanager', 'Interface'],
      ['cognito-idp', 'Interface'],
    ]);
    expect(endpoints[0]).toMatchObject({ VpcId: 'vpc-1', RouteTableIds: ['rtb-1', 'rtb-2'] });
    for (const endpoint of endpoints.slice(1)) {
      expect(endpoint).toMatchObject({
        VpcId: 'vpc-1',
        SubnetIds: ['subnet-a', 'subnet-b'],
        PrivateDnsEnabled: true,
      });
    }
    withEndpoints.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-1',
      SecurityGroupIngress: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: 'sg-1' },
      ],
    });
  });

  it('leaves a deployment without the context public and keyless', () => {
    const resources = publicTemplate.toJSON().Resources as Record<
      string,
      { Type: string; Properties: never }
    >;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const props = resource.Properties as { VpcConfig?: unknown; Environment?: { Variables?: object } };
      expect(props.VpcConfig).toBeUndefined();
      expect(props.Environment?.Variables ?? {}).not.toHaveProperty(
        SETTINGS.inferenceApiKeySecretId.variable,
      );
    }
    publicTemplate.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

describe('privateFleetFromContext', () => {
  it('is undefined without subnets or a key', () => {
    expect(privateFleetFromContext({})).toBeUndefined();
  });

  it.each([
    [{ subnetIds: ['sn-a'], securityGroupIds: ['sg-1'] }, /inferenceSubnetIds must list ids like subnet-/],
    [{ subnetIds: ['subnet-a'], securityGroupIds: ['group-1'] }, /inferenceSecurityGroupIds must list/],
    [{ subnetIds: ['subnet-a'] }, /go together/],
    [{ apiKeySecretArn: 'fleet-key' }, /inferenceApiKeySecretArn must be a Secrets Manager secret ARN/],
    [{ apiKeySecretArn: 'arn:aws:s3:::bucket' }, /must be a Secrets Manager secret ARN/],
    [
      { subnetIds: ['subnet-a'], securityGroupIds: ['sg-1'], vpcId: 'vpc-1' },
      /inferenceRouteTableIds go together/,
    ],
    [{ vpcId: 'vpc-1', routeTableIds: ['rtb-1'] }, /need inferenceSubnetIds/],
    [{ subnetIds: ['subnet-a'], securityGroupIds: ['sg-1'], vpcId: 'v-1', routeTableIds: ['rtb-1'] }, /vpc-/],
  ])('refuses %j', (context, message) => {
    expect(() => privateFleetFromContext(context)).toThrow(message);
  });

  it('grants a full ARN as is and a partial one with its 6-character suffix wildcarded', () => {
    expect(secretGrantResource(`${SECRET}-AbC123`)).toBe(`${SECRET}-AbC123`);
    expect(secretGrantResource(SECRET)).toBe(`${SECRET}-??????`);
  });
});
