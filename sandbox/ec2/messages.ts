// The messages EC2 puts next to per-override CreateFleet error codes, as observed in the wild
// (reference/aws.md 1.7). Callers must classify by code, never by these texts.
import { PoolKey } from './capacity';

export function overrideErrorMessage(code: string, pool: PoolKey | undefined, limit?: number): string {
  switch (code) {
    case 'InsufficientInstanceCapacity':
      return pool?.market === 'on-demand'
        ? `We currently do not have sufficient ${pool.instanceType} capacity in the Availability Zone you requested (${pool.availabilityZone}). ` +
          'Our system will be working on provisioning additional capacity. You can currently get ' +
          `${pool.instanceType} capacity by not specifying an Availability Zone in your request or choosing a different Availability Zone.`
        : 'There is no Spot capacity available that matches your request.';
    case 'UnfulfillableCapacity':
      return 'Unable to fulfill capacity due to your request configuration. Please adjust your request and try again.';
    case 'MaxSpotInstanceCountExceeded':
      return 'Max spot instance count exceeded';
    case 'VcpuLimitExceeded':
      return `You have requested more vCPU capacity than your current vCPU limit of ${limit ?? 0} allows for the instance bucket ` +
        'that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.';
    case 'InsufficientFreeAddressesInSubnet':
      return 'There are not enough free addresses in the subnet to satisfy the requested number of instances.';
    case 'RequestLimitExceeded':
      return 'Request limit exceeded.';
    case 'Unsupported':
      return 'The requested configuration is currently not supported. Please check the documentation for supported configurations.';
    default:
      return code;
  }
}
