// The simulated instances' in-process boot (sandbox/instances.ts): one instance's end or failure never ends
// the run. A proxy in front of the EC2 simulator's IMDS ends the instance, or fails, at the step a test names.
import { IncomingMessage, ServerResponse } from 'http';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, waitFor } from './ec2/helpers';
import { listenOnLoopback, LoopbackServer } from '../../sandbox/common/http';
import { Ec2Simulator } from '../../sandbox/ec2';
import { GhesSimulator } from '../../sandbox/ghes';
import { InstanceHost } from '../../sandbox/instances';

jest.setTimeout(60_000);

type Fault = (path: string, instanceId: string) => Promise<number | undefined>;

let ec2: Ec2Simulator;
let host: InstanceHost;
let register: LoopbackServer;
let imdsProxy: LoopbackServer;
let templateId: string;
let fault: Fault = async () => undefined;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  ec2 = await startSimulator({ seed: 3 });
  // The register endpoint asks every instance to come back later: a boot stays in its loop until its instance ends.
  register = await listenOnLoopback(async (_req: IncomingMessage, res: ServerResponse) => { res.writeHead(503).end(); });
  const imdsOf = new Map<string, string>();
  imdsProxy = await listenOnLoopback(async (req: IncomingMessage, res: ServerResponse) => {
    const [, instanceId, ...rest] = (req.url ?? '').split('/');
    const path = `/${rest.join('/')}`;
    const status = await fault(path, instanceId);
    if (status !== undefined) return void res.writeHead(status).end('fault');
    const answer = await fetch(`${imdsOf.get(instanceId)}${path}`, { method: req.method, headers: req.headers as Record<string, string> });
    res.writeHead(answer.status).end(await answer.text());
  });
  // The instances' IMDS as the host sees it: the proxy.
  const running = ec2.onInstanceRunning.bind(ec2);
  ec2.onInstanceRunning = (listener) => running((info) => {
    imdsOf.set(info.instanceId, info.imdsUrl);
    void listener({ ...info, imdsUrl: `${imdsProxy.url}/${info.instanceId}` });
  });
  templateId = ec2.registerLaunchTemplate({ ...RUNNER_TEMPLATE, userData: `#!/bin/bash\nexport REGISTER_URL='${register.url}/register'\n` }).launchTemplateId;
  host = new InstanceHost(ec2, new GhesSimulator(), () => false, 'http://127.0.0.1:1', (url) => url);
  await host.start();
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await host.stop();
  await Promise.all([register.close(), imdsProxy.close(), ec2.stop()]);
});

const launch = async () => {
  const client = ec2Client(ec2);
  const fleet = await createFleet(client, fleetInput(templateId, 1, { TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' } }));
  client.destroy();
  return fleet.Instances![0].InstanceIds![0];
};
const ended = (id: string) => ['terminated', undefined].includes(ec2.instance(id)?.state);

test('an instance that ends as its boot reads its credentials (IMDS answers 404 Not Found) stops booting quietly', async () => {
  const before = { ...host.boots };
  let endedAt: string | undefined;
  fault = async (path, instanceId) => {
    // The instance is interrupted between the boot's last look at its state and its credentials request.
    if (/\/iam\/security-credentials\/.+/.test(path) && !endedAt) {
      endedAt = instanceId;
      ec2.poweroff(instanceId);
      await waitFor(() => ended(instanceId));
    }
    return undefined;
  };

  const id = await launch();

  await waitFor(() => endedAt === id && host.booting === 0);
  expect(host.boots).toEqual({ ...before, inProcess: before.inProcess + 1 });
  expect(rejections).toEqual([]);
});

test('an unexpected failure of one boot is counted, its instance powered off, and nothing escapes', async () => {
  const before = { ...host.boots };
  fault = async (path) => (path.endsWith('/placement/region') ? 500 : undefined);

  const id = await launch();

  await waitFor(() => host.boots.failed === before.failed + 1 && host.booting === 0);
  await waitFor(() => ended(id));
  expect(host.boots).toEqual({ ...before, inProcess: before.inProcess + 1, failed: before.failed + 1 });
  expect(rejections).toEqual([]);
});
