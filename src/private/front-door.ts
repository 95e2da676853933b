// How GitHub and the runners reach the control plane's two endpoints: over the internet, or through
// the private REST API and its `execute-api` VPC endpoint (EndpointAccess).
import { Annotations, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PrivateApi, PrivateApiRoute } from './private-api';
import { EndpointAccess } from '../endpoint-access';
import { EphemeralRunnersProps } from '../ephemeral-runners-props';

/** Where {@link privateFrontDoor} builds. */
export interface FrontDoorPlacement {
  readonly vpc: ec2.IVpc;
  /** Where a created VPC endpoint goes: the runner subnets. */
  readonly runnerSubnets: ec2.SubnetSelection;
  readonly logRetention: logs.RetentionDays;
}

/** The private REST API and the endpoint, when either endpoint is private. */
export interface FrontDoor {
  readonly api?: PrivateApi;
  readonly createdEndpoint?: ec2.InterfaceVpcEndpoint;
  readonly webhookRoute?: PrivateApiRoute;
  readonly registerRoute?: PrivateApiRoute;
}

/** Builds, in `scope`, the private API and the `execute-api` endpoint the private accesses need. */
export function privateFrontDoor(scope: Construct, runnersProps: EphemeralRunnersProps, props: FrontDoorPlacement): FrontDoor {
  const webhookAccess = runnersProps.webhookAccess ?? EndpointAccess.publicInternet();
  const registerAccess = runnersProps.registerAccess ?? EndpointAccess.publicInternet();
  const setAccountLogsRole = runnersProps.setApiGatewayAccountLogsRole;
  const privateAccesses = [webhookAccess, registerAccess].filter((a) => a.isPrivate);
  if (privateAccesses.length === 0) return {};
  let createdEndpoint: ec2.InterfaceVpcEndpoint | undefined;
  if (privateAccesses.some((a) => a.vpcEndpoint === undefined)) {
    createdEndpoint = new ec2.InterfaceVpcEndpoint(scope, 'ApiEndpoint', {
      vpc: props.vpc,
      service: ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
      subnets: { ...props.runnerSubnets, onePerAz: true },
      // Private DNS would send every execute-api name of the VPC here, public APIs included; the
      // URLs use the {api-id}-{vpce-id} alias instead, which needs no private DNS.
      privateDnsEnabled: false,
      // Only the runners get in (allowRunners); let GHES in with apiVpcEndpoint.connections.allowFrom().
      open: false,
    });
    // Untrusted jobs reach this endpoint: it calls APIs of this account and region only, so it is
    // no way out to another account's private APIs. (Naming the one API would be a cycle: the API
    // names the endpoint.)
    createdEndpoint.addToPolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: [Stack.of(scope).formatArn({ service: 'execute-api', resource: '*' })],
    }));
  }
  const endpointOf = (access: EndpointAccess) => access.vpcEndpoint ?? createdEndpoint!;
  const api = new PrivateApi(scope, 'PrivateApi', {
    vpcEndpoints: [...new Set(privateAccesses.map(endpointOf))],
    logRetention: props.logRetention,
    setAccountLogsRole,
  });
  if (!setAccountLogsRole) {
    Annotations.of(scope).addInfo('The private API logs access through API Gateway\'s account-wide CloudWatch Logs role: if this account and region '
      + 'have none yet, the deploy fails with "CloudWatch Logs role ARN must be set in account settings"; set setApiGatewayAccountLogsRole: true.');
  }
  const routeFor = (access: EndpointAccess) => (access.isPrivate ? { api, vpcEndpoint: endpointOf(access) } : undefined);
  return { api, createdEndpoint, webhookRoute: routeFor(webhookAccess), registerRoute: routeFor(registerAccess) };
}

/**
 * Lets the runners call the register endpoint: through its VPC endpoint when it is private; a
 * warning when it is a Function URL but some runners' subnets (`subnetIds`: every config's) are isolated.
 */
export function allowRunnersToRegister(
  scope: Construct, frontDoor: FrontDoor, runners: ec2.ISecurityGroup, vpc: ec2.IVpc, subnetIds: readonly string[],
): void {
  const route = frontDoor.registerRoute;
  const isolated = new Set(vpc.isolatedSubnets.map((subnet) => subnet.subnetId));
  if (!route && subnetIds.some((subnetId) => isolated.has(subnetId))) {
    Annotations.of(scope).addWarningV2('cdk-ephemeral-runners:registerUnreachable',
      'Runners go to isolated subnets, but the register endpoint is a Function URL, reachable only over the internet: '
      + 'unless those subnets route to the internet some other way, no runner gets its config. Set registerAccess: EndpointAccess.privateApi().');
  }
  // Written here, not with the endpoint's connections: an endpoint of another stack would then
  // hold a rule naming this stack's security group, a cycle between the stacks.
  route?.vpcEndpoint.connections.securityGroups.forEach((group, i) => new ec2.CfnSecurityGroupIngress(scope, `RunnersToApiEndpoint${i}`, {
    groupId: group.securityGroupId,
    sourceSecurityGroupId: runners.securityGroupId,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: 'Runners call the register endpoint',
  }));
}
