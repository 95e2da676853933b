// Shared set-up for the EC2 simulator tests: a fast clock, the real SDK client, polling helpers.
import { CreateFleetCommand, CreateFleetCommandInput, EC2Client } from '@aws-sdk/client-ec2';
import { ScaledClock, SimClock } from '../../../sandbox/common/time';
import { Ec2InstanceEvent, Ec2Simulator, Ec2SimulatorOptions, LaunchTemplateRegistration } from '../../../sandbox/ec2';

/** One simulated second is one wall-clock millisecond: a two-minute spot notice takes 120 ms. */
export const TIME_SCALE = 0.001;

export const RUNNER_TEMPLATE: LaunchTemplateRegistration = {
  launchTemplateName: 'runners',
  imageId: 'ami-0123456789abcdef0',
  userData: '#!/bin/bash\necho booting runner\n',
  instanceInitiatedShutdownBehavior: 'terminate',
  iamInstanceProfile: { arn: 'arn:aws:iam::123456789012:instance-profile/runner', roleName: 'runner-role' },
  tags: { Project: 'ephemeral-runners' },
};

export async function startSimulator(options: Ec2SimulatorOptions = {}): Promise<Ec2Simulator> {
  const sim = new Ec2Simulator({ clock: new ScaledClock(TIME_SCALE), onListenerError: () => undefined, ...options });
  await sim.start();
  return sim;
}

export function ec2Client(sim: Ec2Simulator, maxAttempts = 1): EC2Client {
  return new EC2Client({
    endpoint: sim.url,
    region: sim.region,
    credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' },
    maxAttempts,
  });
}

/** A CreateFleet input for `count` instances of the runner template, spot by default. */
export function fleetInput(
  launchTemplateId: string,
  count: number,
  overrides: Partial<CreateFleetCommandInput> = {},
): CreateFleetCommandInput {
  return {
    Type: 'instant',
    LaunchTemplateConfigs: [{
      LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
      Overrides: [{ InstanceType: 'm7i.large' }, { InstanceType: 'm6i.large' }],
    }],
    TargetCapacitySpecification: { TotalTargetCapacity: count, DefaultTargetCapacityType: 'spot' },
    SpotOptions: { AllocationStrategy: 'price-capacity-optimized' },
    ...overrides,
  };
}

export async function createFleet(ec2: EC2Client, input: CreateFleetCommandInput) {
  return ec2.send(new CreateFleetCommand(input));
}

/** Polls until `probe` returns something other than undefined / false; the ceiling is generous (machines are shared) and a wait ends as soon as the probe holds. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function collectEvents(sim: Ec2Simulator): Ec2InstanceEvent[] {
  const events: Ec2InstanceEvent[] = [];
  sim.onEvent((event) => {
    events.push(event);
  });
  return events;
}

export function statesOf(events: readonly Ec2InstanceEvent[], instanceId: string): string[] {
  return events
    .filter((e) => e['detail-type'] === 'EC2 Instance State-change Notification' && e.detail['instance-id'] === instanceId)
    .map((e) => (e.detail as { state: string }).state);
}

/** A clock that moves only when told: billing figures come out exact. Timers due within an `advance` fire in due order. */
export class ManualClock implements SimClock {
  readonly timeScale = 1;
  private t = Date.UTC(2026, 0, 1);
  private seq = 0;
  private timers: { due: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.t;
  }

  sleep(simulatedMs: number): Promise<void> {
    return new Promise((resolve) => this.after(simulatedMs, resolve));
  }

  after(simulatedMs: number, fn: () => void): () => void {
    const timer = { due: this.t + Math.max(0, simulatedMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return () => { timer.cancelled = true; };
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((timer) => !timer.cancelled);
      const next = this.timers.filter((timer) => timer.due <= end).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.t = next.due;
      next.fn();
    }
    this.t = end;
  }
}
