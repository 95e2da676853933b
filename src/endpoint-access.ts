// How GitHub reaches the webhook and how runners reach the register endpoint: over the internet
// (the default, nothing billed while idle) or only through an `execute-api` interface VPC endpoint.
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Where a control-plane endpoint (the webhook, the register endpoint) can be called from.
 *
 * Lambda Function URLs cannot be reached through PrivateLink, so a private endpoint is a route of a
 * private REST API, reachable only through an interface VPC endpoint of API Gateway.
 */
export class EndpointAccess {
  /**
   * Over the internet: an HTTP API for the webhook, a Function URL for the register endpoint.
   * Both check who calls (the webhook signature, SigV4 of the runner role) before anything else.
   */
  static publicInternet(): EndpointAccess {
    return new EndpointAccess(false);
  }

  /**
   * Only through an interface VPC endpoint of API Gateway (`com.amazonaws.<region>.execute-api`):
   * a route of a private REST API whose resource policy refuses every other path in.
   *
   * The runners' security group is allowed in on 443 when the register endpoint is private; let
   * the GitHub server in yourself (`vpcEndpoint.connections.allowFrom(...)`, or
   * `EphemeralRunners.apiVpcEndpoint` for the one the construct creates).
   *
   * @param vpcEndpoint the endpoint to accept calls through. Default: one shared endpoint, created
   * in the runner subnets with private DNS off (an interface endpoint bills by the hour in every
   * Availability Zone it serves).
   */
  static privateApi(vpcEndpoint?: ec2.IInterfaceVpcEndpoint): EndpointAccess {
    return new EndpointAccess(true, vpcEndpoint);
  }

  /**
   * @param isPrivate whether the endpoint is a route of the private REST API
   * @param vpcEndpoint the VPC endpoint a private route is called through; undefined for the shared one
   */
  private constructor(readonly isPrivate: boolean, readonly vpcEndpoint?: ec2.IInterfaceVpcEndpoint) {}
}
