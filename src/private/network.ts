// Where the runners and the functions run: the VPC made when none is given, the default runner
// subnets, and the functions' security group when they run in the VPC.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ControlPlaneNetwork } from './control-plane-function';

/**
 * The VPC made when none is given: public subnets only, so nothing bills by the hour (no NAT
 * gateway, no interface endpoint); instances get public addresses and go out through the internet
 * gateway. Its flow log makes it as auditable as a VPC a user would bring.
 */
export function publicVpc(scope: Construct, logRetention: logs.RetentionDays): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 3,
    natGateways: 0,
    subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true }],
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(scope, 'VpcFlowLogs', { retention: logRetention })),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  return vpc;
}

export function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  if (vpc.privateSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  if (vpc.publicSubnets.length > 0) return { subnetType: ec2.SubnetType.PUBLIC };
  return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
}

/**
 * Where the functions run inside the VPC: a security group with no inbound rule and HTTPS out (to
 * the AWS endpoints and GitHub), plus the GitHub server's own port if its URL names another.
 */
export function controlPlaneNetwork(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, githubPort: number): ControlPlaneNetwork {
  const securityGroup = new ec2.SecurityGroup(scope, 'ControlPlaneSecurityGroup', {
    vpc,
    description: 'cdk-ephemeral-runners control-plane functions: no inbound traffic, HTTPS out',
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS service endpoints and the GitHub server');
  if (githubPort !== 443) securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(githubPort), 'The GitHub server');
  return { vpc, subnets, securityGroup };
}
