// The EventBridge events EC2 emits for instances (reference/aws.md 3).
import { InstanceStateName } from './types';

export interface Ec2Event<DetailType extends string, Detail> {
  readonly 'version': '0';
  readonly 'id': string;
  readonly 'detail-type': DetailType;
  readonly 'source': 'aws.ec2';
  readonly 'account': string;
  readonly 'time': string;
  readonly 'region': string;
  readonly 'resources': readonly string[];
  readonly 'detail': Detail;
}

export type InstanceStateChangeEvent = Ec2Event<'EC2 Instance State-change Notification', { readonly 'instance-id': string; readonly 'state': InstanceStateName }>;

export type SpotInterruptionWarningEvent = Ec2Event<'EC2 Spot Instance Interruption Warning', { readonly 'instance-id': string; readonly 'instance-action': 'terminate' }>;

export type Ec2InstanceEvent = InstanceStateChangeEvent | SpotInterruptionWarningEvent;

export type Ec2EventListener = (event: Ec2InstanceEvent) => void | Promise<void>;
