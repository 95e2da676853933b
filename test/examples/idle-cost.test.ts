// Zero idle cost is a product feature: the basic example's template may hold nothing that bills by
// the hour (or runs compute) while no job runs. Each rule names why the resource would cost.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { idleCosts } from './idle-cost';
import { buildApp } from '../../examples/basic/app';

test('the basic example bills nothing by the hour while no job runs', () => {
  const app = buildApp();
  const template = Template.fromStack(app.node.findChild('EphemeralRunnersBasic') as Stack).toJSON();
  expect(idleCosts(template)).toEqual([]);
});

test('the check catches what it is for', () => {
  const costly = {
    Resources: {
      Nat: { Type: 'AWS::EC2::NatGateway' },
      Endpoint: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface' } },
      Gateway: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PROVISIONED' } },
      Group: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MinSize: '1' } },
      EmptyGroup: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MinSize: '0' } },
    },
  };
  expect(idleCosts(costly).map((c) => c.split(' ')[0])).toEqual(['Nat', 'Endpoint', 'Table', 'Group']);
});
