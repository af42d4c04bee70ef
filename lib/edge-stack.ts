import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EdgeFirewall, type EdgeFirewallProps } from './constructs/edge-firewall';

export interface EdgeStackProps extends StackProps {
  readonly firewall?: EdgeFirewallProps;
}

/**
 * The distribution's web ACL when the app deploys outside us-east-1: CloudFront takes only CLOUDFRONT-scoped
 * ACLs, which exist only there. bin/app.ts pins it to us-east-1 and passes the ACL's ARN to the stateless
 * stack (a cross-region reference, written to SSM here and read there).
 */
export class EdgeStack extends Stack {
  public readonly firewall: EdgeFirewall;

  public constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    this.firewall = new EdgeFirewall(this, 'Firewall', props.firewall);
  }
}
