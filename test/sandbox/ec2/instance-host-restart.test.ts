// The sandbox's instance OS across stop and start: a restarted instance boots again (its bootstrap runs per boot, as a cloud-init
// per-boot script); a hibernated one resumes the boot it was on, without booting again.
import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { EC2Client, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, waitFor } from './helpers';
import { Ec2Simulator } from '../../../sandbox/ec2';
import { GhesSimulator } from '../../../sandbox/ghes';
import { InstanceHost } from '../../../sandbox/instances';

jest.setTimeout(60_000);

describe('the instance host across stop, start and hibernation', () => {
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let host: InstanceHost;
  let register: Server;
  /** Register calls by instance (the session name of the signing credentials is the instance id); 410 once an instance is listed in `done`. */
  const calls = new Map<string, number>();
  const done = new Set<string>();
  let templateId: string;

  beforeAll(async () => {
    sim = await startSimulator({ faults: { bootDelayMs: 1_000, shutdownDelayMs: 1_000, startDelayMs: 1_000, resumeDelayMs: 1_000 } });
    ec2 = ec2Client(sim);
    register = createServer((req, res) => {
      const key = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
      const instanceId = key === undefined ? 'unsigned' : sim.credentialsFor(key)?.instanceId ?? 'unknown';
      calls.set(instanceId, (calls.get(instanceId) ?? 0) + 1);
      // 503: the control plane has no job yet, the boot keeps asking; 410: give up, power off.
      res.writeHead(done.has(instanceId) ? 410 : 503).end();
    });
    await new Promise<void>((resolve) => register.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(register.address() as AddressInfo).port}/register`;
    templateId = sim.registerLaunchTemplate({
      ...RUNNER_TEMPLATE, hibernationConfigured: true, userData: `#!/bin/bash\nexport REGISTER_URL='${url}'\n`,
    }).launchTemplateId;
    host = new InstanceHost(sim, new GhesSimulator({ withApp: false }), () => false, 'http://127.0.0.1:9/logs', (u) => u);
    await host.start();
  });

  afterAll(async () => {
    ec2.destroy();
    await host.stop();
    await sim.stop();
    await new Promise((resolve) => register.close(resolve));
  });

  async function launchBooted(): Promise<string> {
    const target = { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' as const };
    const id = (await createFleet(ec2, fleetInput(templateId, 1, { TargetCapacitySpecification: target }))).Instances![0].InstanceIds![0];
    await waitFor(() => (calls.get(id) ?? 0) > 0);
    return id;
  }

  test('a hibernated instance resumes its boot: no second boot, the same boot carries on and powers the instance off in the end', async () => {
    // Arrange
    const bootsBefore = host.boots.inProcess;
    const id = await launchBooted();

    // Act
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id], Hibernate: true }));
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    const callsWhileHibernated = calls.get(id)!;
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => sim.instance(id)?.state === 'running');

    // Assert
    await waitFor(() => calls.get(id)! > callsWhileHibernated);
    expect(host.boots.inProcess - bootsBefore).toBe(1);
    done.add(id);
    await waitFor(() => sim.instance(id)?.state === 'terminated');
    expect(host.boots.inProcess - bootsBefore).toBe(1);
  });

  test('a stopped instance\'s boot dies with it, and a start boots it again', async () => {
    // Arrange
    const bootsBefore = host.boots.inProcess;
    const id = await launchBooted();

    // Act
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    expect(host.booting).toBe(0);
    const callsBeforeStart = calls.get(id)!;
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));

    // Assert
    await waitFor(() => host.boots.inProcess - bootsBefore === 2 && calls.get(id)! > callsBeforeStart);
    done.add(id);
    await waitFor(() => sim.instance(id)?.state === 'terminated');
    expect(host.boots.inProcess - bootsBefore).toBe(2);
  });
});
