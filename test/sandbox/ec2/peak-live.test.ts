// The EC2 simulator's own record of the most instances live at once (pending, running, stopping or
// stopped), which the fleet-cap scenario holds the control plane's maxInstances to.
import { EC2Client, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, waitFor } from './helpers';
import { Ec2Simulator } from '../../../sandbox/ec2';

let sim: Ec2Simulator;
let ec2: EC2Client;
let templateId: string;

beforeEach(async () => {
  sim = await startSimulator({ seed: 5, faults: { bootDelayMs: [1000, 1000] } });
  ec2 = ec2Client(sim);
  templateId = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
});
afterEach(async () => {
  ec2.destroy();
  await sim.stop();
});

async function launch(count: number): Promise<string[]> {
  const capacity = { TotalTargetCapacity: count, DefaultTargetCapacityType: 'on-demand' as const };
  const result = await createFleet(ec2, fleetInput(templateId, count, { TargetCapacitySpecification: capacity }));
  return result.Instances!.flatMap((i) => i.InstanceIds!);
}

test('the peak is the most instances live at once; one shutting down or terminated no longer counts', async () => {
  expect(sim.peakLiveInstances()).toBe(0);
  const first = await launch(3);
  expect(sim.peakLiveInstances()).toBe(3);

  await ec2.send(new TerminateInstancesCommand({ InstanceIds: first.slice(0, 2) }));
  await launch(2);

  expect(sim.peakLiveInstances()).toBe(3);
  await launch(1);
  expect(sim.peakLiveInstances()).toBe(4);
});

test('a stopped instance still counts (it can be started again)', async () => {
  const [id] = await launch(1);
  await waitFor(() => sim.instance(id)?.state === 'running');
  await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  await waitFor(() => sim.instance(id)?.state === 'stopped');
  await launch(1);
  expect(sim.peakLiveInstances()).toBe(2);
});
