// The functions' execution environments: bundles written here, each loaded in worker threads as Lambda
// loads a function in its environments; counts and outcomes asserted, never timings.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FunctionDeployment, FunctionError, LambdaRuntime, TooManyRequestsException } from '../../../sandbox/aws/lambda-runtime';

jest.setTimeout(60_000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-runtime-'));
/** A bundle whose handler is `body` (an async function of event and context); `init` runs once per environment. */
const bundle = (name: string, body: string, init = '') => {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, `${init}\nexports.handler = async (event, context) => { ${body} };\n`);
  return file;
};
const fn = (name: string, body: string, more: Partial<FunctionDeployment> & { init?: string } = {}): FunctionDeployment => ({
  name, bundle: bundle(name, body, more.init), environment: { AWS_REGION: 'us-east-1' }, timeoutSeconds: 30, memoryMb: 256, ...more,
});
/** A handler that answers once the test writes its release file: invocations stay in flight as long as the test wants. */
const held = (release: string) => `while (!require('fs').existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 10)); return 'done';`;

/** A runtime whose caps are the test's, not this machine's. */
const runtimeWith = (caps: { maxEnvironments?: number; maxInits?: number } = {}) =>
  new LambdaRuntime({ timeScale: 1, region: 'us-east-1', accountId: '123456789012', log: fs.createWriteStream('/dev/null'), maxEnvironments: 16, maxInits: 8, ...caps });
let runtime: LambdaRuntime;
beforeEach(() => {
  runtime = runtimeWith();
});
afterEach(() => runtime.stop());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('each function sees its own environment and a Context rebuilt in its environment; the result crosses JSON', async () => {
  const body = 'return { key: process.env.AWS_ACCESS_KEY_ID, name: context.functionName, id: context.awsRequestId, memory: context.memoryLimitInMB, '
    + 'arn: context.invokedFunctionArn, left: context.getRemainingTimeInMillis(), at: new Date(0), event };';
  runtime.deploy(fn('first', body, { environment: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'ASIAFIRST' } }));
  runtime.deploy(fn('second', body, { environment: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'ASIASECOND' }, timeoutSeconds: 3 }));

  const [first, second] = await Promise.all([runtime.invoke('first', { n: 1 }), runtime.invoke('second', { n: 2 })]) as Array<Record<string, unknown>>;

  expect(first).toMatchObject({ key: 'ASIAFIRST', name: 'first', memory: '256', arn: 'arn:aws:lambda:us-east-1:123456789012:function:first', at: '1970-01-01T00:00:00.000Z', event: { n: 1 } });
  expect(second).toMatchObject({ key: 'ASIASECOND', name: 'second', event: { n: 2 } });
  expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(first.left).toBeLessThanOrEqual(30_000);
  expect(second.left).toBeLessThanOrEqual(3_000);
});

test('the first invocation starts an environment (cold), later ones reuse it with its module state (warm)', async () => {
  runtime.deploy(fn('counter', 'return ++count;', { init: 'let count = 0;' }));

  const answers = [await runtime.invoke('counter', {}), await runtime.invoke('counter', {}), await runtime.invoke('counter', {})];

  expect(answers).toEqual([1, 2, 3]);
  expect(runtime.report().counter).toEqual({ invocations: 3, coldStarts: 1, peakConcurrency: 1, throttled: 0, waitedForEnvironment: 0 });
});

test('invocations in flight at once each get an environment; beyond the reserved concurrency Lambda throttles', async () => {
  const release = path.join(dir, 'release-reserved');
  runtime.deploy(fn('reserved', held(release), { concurrency: 3 }));

  const running = [1, 2, 3].map(() => runtime.invoke('reserved', {}));
  const fourth = runtime.invoke('reserved', {});
  await expect(fourth).rejects.toBeInstanceOf(TooManyRequestsException);
  fs.writeFileSync(release, '');

  expect(await Promise.all(running)).toEqual(['done', 'done', 'done']);
  expect(runtime.report().reserved).toEqual({ invocations: 4, coldStarts: 3, peakConcurrency: 3, throttled: 1, waitedForEnvironment: 0 });
});

test('at the sandbox\'s cap an invocation waits for an environment; an idle one of another function makes room', async () => {
  const release = path.join(dir, 'release-cap');
  runtime = runtimeWith({ maxEnvironments: 1 });
  runtime.deploy(fn('a', held(release)));
  runtime.deploy(fn('b', 'return "b";'));

  const a = runtime.invoke('a', {});
  const b = runtime.invoke('b', {});
  fs.writeFileSync(release, '');

  expect(await Promise.all([a, b])).toEqual(['done', 'b']);
  expect(runtime.report().b).toMatchObject({ coldStarts: 1, waitedForEnvironment: 1 });
  // a's environment was reclaimed for b: a starts cold again.
  expect(await runtime.invoke('a', {})).toBe('done');
  expect(runtime.report().a).toMatchObject({ invocations: 2, coldStarts: 2 });
});

test('beyond the sandbox\'s init slots an invocation waits for an environment to finish its init', async () => {
  const release = path.join(dir, 'release-inits');
  runtime = runtimeWith({ maxInits: 1 });
  runtime.deploy(fn('slow', held(release)));

  const both = [runtime.invoke('slow', {}), runtime.invoke('slow', {})];
  fs.writeFileSync(release, '');

  expect(await Promise.all(both)).toEqual(['done', 'done']);
  expect(runtime.report().slow).toEqual({ invocations: 2, coldStarts: 2, peakConcurrency: 2, throttled: 0, waitedForEnvironment: 1 });
});

test('a handler\'s error reaches the caller with its name; a failed init or an exiting runtime fails the invocation and the next one starts cold', async () => {
  runtime.deploy(fn('throws', 'const e = new Error("no such pool"); e.name = "PoolNotFound"; throw e;'));
  runtime.deploy(fn('broken', 'return 1;', { init: 'throw new Error("bad bundle");' }));
  runtime.deploy(fn('exits', 'if (event.exit) process.exit(3); return "alive";'));

  await expect(runtime.invoke('throws', {})).rejects.toMatchObject({ name: 'PoolNotFound', message: 'no such pool' });
  await expect(runtime.invoke('broken', {})).rejects.toMatchObject({ name: 'Runtime.ImportModuleError', message: expect.stringContaining('bad bundle') });
  await expect(runtime.invoke('broken', {})).rejects.toBeInstanceOf(FunctionError);
  await expect(runtime.invoke('exits', { exit: true })).rejects.toMatchObject({ name: 'Runtime.ExitError' });
  expect(await runtime.invoke('exits', {})).toBe('alive');

  expect(runtime.report().broken.coldStarts).toBe(2);
  expect(runtime.report().exits.coldStarts).toBe(2);
});

test('after stop no environment is left and an invocation is refused', async () => {
  runtime.deploy(fn('idle', 'return 1;'));
  await runtime.invoke('idle', {});

  await runtime.stop();

  await expect(runtime.invoke('idle', {})).rejects.toThrow('the sandbox is stopping');
});
