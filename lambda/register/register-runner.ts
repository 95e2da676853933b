// The register function's logic (DESIGN.md section 3.4): a booting instance, identified by its
// SigV4-signed instance-role session, asks for its just-in-time runner config. The function checks
// that the instance is one of ours and that its pool still has demand, claims the runner, has
// GitHub mint the JIT config and hands it over. The config is never stored and never logged.
import { BootProblem, fromLambdaEvent, instanceOfCaller, problemOf, RegisterRequest, RunnerCaller } from './caller';
import { BadRegisterRequestError, CallerNotAllowedError, RunnerContendedError } from './errors';
import { holdLaunches } from './hold-launches';
import { configAnswer, jsonAnswer, RegisterAction, RegisterAnswer } from './http';
import { RefusalReason, RegisterMetrics } from './register-metrics';
import { Logger } from '../common/logger';
import { ConfigError } from '../core/errors';
import { EnterpriseCredentialError, GitHubAppNotInstalledError, GitHubPort, JitRunner, RunnerGroupNotFoundError, RunnerGroupRef } from '../core/github';
import { HoldReason } from '../core/launch-hold';
import { Clock, JobStore, PoolStore, RunnerConfigSource, RunnerStore } from '../core/ports';
import { RunnerScope } from '../core/routing';
import { runnerName, RunnerRecord, RunnerState, scopeOf } from '../core/runner';
import { RunnerConfig } from '../core/runner-config';

export interface RegisterDeps {
  /** The runner instances' shared role: only its instance-profile sessions may register (and those of `configRoleNames`). */
  readonly runnerRoleName: string;
  /** The role of each runner config that has one of its own, by config name: its instances sign as it. @default none */
  readonly configRoleNames?: Readonly<Record<string, string>>;
  readonly runnerNamePrefix: string;
  readonly runners: RunnerStore;
  readonly jobs: JobStore;
  /** Where a refusal only an operator fixes holds the pool's launches. */
  readonly pools: PoolStore;
  readonly configs: RunnerConfigSource;
  /** Built on first use: a refused call reads no private key. */
  readonly github: () => Promise<GitHubPort>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: RegisterMetrics;
}

/** Repositories have only the Default runner group; a config's group applies to organizations and the enterprise. */
const DEFAULT_RUNNER_GROUP_ID = 1;

/**
 * How many times a decision is taken afresh after its conditional write lost. Writers of one runner
 * are few (this function, the provisioner, the lifecycle function), so two losses in a row are rare.
 */
const MAX_DECISIONS = 4;

/** A decision whose conditional write lost: read the runner again and decide again. */
const LOST = Symbol('lost');
type Decision = RegisterAnswer | typeof LOST;

/** Answers one register request from either event shape. Never throws. */
export async function registerRunner(event: unknown, deps: RegisterDeps): Promise<RegisterAnswer> {
  try {
    const answer = await handle(fromLambdaEvent(event), deps);
    // The body of a 200 is the JIT config: only its status is logged.
    deps.logger.info('register answered', answer.status === 200 ? { status: 200 } : { status: answer.status, answer: answer.body });
    return answer;
  } catch (e) {
    const answer = failure(e, deps);
    deps.logger.info('register answered', { status: answer.status, answer: answer.body });
    return answer;
  } finally {
    deps.logger.resetKeys();
  }
}

async function handle(request: RegisterRequest, deps: RegisterDeps): Promise<RegisterAnswer> {
  const method = request.method?.toUpperCase();
  if (method !== undefined && method !== 'POST') {
    return jsonAnswer(405, `method ${method} is not allowed: the bootstrap asks for its runner config with POST`);
  }
  const caller = instanceOfCaller(request, [deps.runnerRoleName, ...Object.values(deps.configRoleNames ?? {})]);
  deps.logger.appendKeys({ instanceId: caller.instanceId });
  const problem = problemOf(request.body);
  for (let attempt = 1; attempt <= MAX_DECISIONS; attempt++) {
    const decision = await decide(caller, problem, deps);
    if (decision !== LOST) return decision;
    deps.logger.info('the runner changed while deciding; deciding again', { attempt });
  }
  throw new RunnerContendedError(caller.instanceId, MAX_DECISIONS);
}

async function decide(caller: RunnerCaller, problem: BootProblem | undefined, deps: RegisterDeps): Promise<Decision> {
  const { instanceId } = caller;
  const runner = await deps.runners.getRunner(instanceId);
  if (!runner) {
    // The provisioner records a runner right after CreateFleet returns; a fast boot can beat it.
    return refuse(deps, 'unknown-instance', 503, `instance ${instanceId} is not recorded as a runner (yet); ask again`);
  }
  deps.logger.appendKeys({ poolId: runner.poolId, configName: runner.configName });
  // Each instance signs as its config's role (its launch template's profile): an instance of another
  // role is not the runner recorded under this id.
  const role = deps.configRoleNames?.[runner.configName] ?? deps.runnerRoleName;
  if (caller.roleName !== role) {
    throw new CallerNotAllowedError(`instance ${instanceId} signs as role ${caller.roleName}, but runner config ${runner.configName}'s instances run with role ${role}`);
  }
  if (runner.state === 'retiring' || runner.state === 'gone') {
    return refuse(deps, 'retired', 410, `runner ${instanceId} is ${runner.state}${runner.retireReason ? ` (${runner.retireReason})` : ''}: power off`);
  }
  if (runner.state === 'busy') return refuse(deps, 'busy', 409, `runner ${instanceId} already runs a job; it gets no second runner config`);
  if (problem === 'runner-missing') {
    // The bootstrap reports before it has ever asked for a config; a runner that got one has a runner,
    // and such a report can only come from its job's code, which must not retire it or hold its pool.
    if (!REPORTS_FROM.includes(runner.state)) {
      return refuse(deps, 'configured', 409, `runner ${instanceId} is ${runner.state}: it got its runner config, so it cannot lack the runner; report refused`);
    }
    return runnerMissing(runner, deps);
  }
  if (runner.state === 'warming' || runner.state === 'warm') {
    // Booted once so that a later start only needs its JIT config: it powers off and parks stopped
    // (shutdown behaviour `stop`). No JIT config is minted for it, so none sits on a stopped disk.
    return refuse(deps, 'warm-pool', 410, `runner ${instanceId} is a warm pool instance: power off and wait stopped until a job claims it`, 'park');
  }

  const config = (await deps.configs.loadConfigs()).find((c) => c.name === runner.configName);
  if (!config) {
    return retire(runner, 'no-config', `runner config ${runner.configName} no longer exists: power off`, deps);
  }
  if (!(await poolHasDemand(runner, deps))) {
    return retire(runner, 'surplus', `pool ${runner.poolId} has no queued job left for this runner: power off`, deps);
  }

  // Claim first: a concurrent retire (provisioner) and this register are mutually exclusive,
  // whichever conditional write lands first wins. A runner already registered (its earlier answer
  // was lost) is claimed again and gets a fresh config, which replaces the earlier registration.
  const now = deps.clock.now();
  const name = runnerName(deps.runnerNamePrefix, instanceId);
  const claimed = await deps.runners.transitionRunner(instanceId, ['booting', 'registered'], 'registered', { runnerName: name, registeredAt: now }, now);
  if (!claimed) return LOST;
  deps.logger.appendKeys({ runnerName: name });
  return issueConfig(claimed, config, deps);
}

/**
 * Demand left for this runner: the pool's queued jobs outnumber its other idle (registered)
 * runners. Booting runners are not counted: this one is further along than any of them, and the
 * reconciler retires whatever surplus remains. Reads the idle runners (few) and counts queued jobs
 * only as far as the answer needs, so a register call costs the same with 5 or 500 jobs queued.
 *
 * A job that starts between the two reads leaves the queued count while its runner still looks
 * idle, which would refuse a runner the pool needs. So the idle runners are read again, strongly
 * consistent, after the count: one that took a job meanwhile is no longer idle.
 */
async function poolHasDemand(runner: RunnerRecord, deps: RegisterDeps): Promise<boolean> {
  const listed = await deps.runners.listPoolRunners(runner.poolId, 'registered');
  const others = listed.filter((r) => r.instanceId !== runner.instanceId).map((r) => r.instanceId);
  const queued = await deps.jobs.countActiveJobs(runner.poolId, 'queued', others.length + 1);
  if (queued > others.length) {
    deps.logger.info('pool demand', { queuedJobsCounted: queued, idleRunners: others.length });
    return true;
  }
  const current = others.length === 0 ? new Map<string, RunnerRecord>() : await deps.runners.getRunners(others);
  const idleOthers = others.filter((id) => current.get(id)?.state === 'registered').length;
  deps.logger.info('pool demand', { queuedJobsCounted: queued, idleRunners: idleOthers, idleRunnersListed: others.length });
  return queued > idleOthers;
}

/** The states an instance reports `runner-missing` from: before it ever got a runner config. */
const REPORTS_FROM: readonly RunnerState[] = ['booting', 'warming', 'warm'];

/**
 * The instance's image holds no runner, so it asked for no config: it is retired (it powers off and
 * is terminated; a warm pool instance is not parked), and its pool's launches (a warm pool's too)
 * are held, since every instance of that image boots to the same end. LOST if it changed meanwhile.
 */
async function runnerMissing(runner: RunnerRecord, deps: RegisterDeps): Promise<Decision> {
  const now = deps.clock.now();
  const retired = await deps.runners.transitionRunner(runner.instanceId, [runner.state], 'retiring', { retireReason: 'runner-missing' }, now);
  if (!retired) return LOST;
  deps.logger.error('the instance\'s image holds no runner (no run.sh): it asked for no config', { imageId: runner.imageId });
  return refuseAndHold(runner, 'runner-missing', `runner ${runner.instanceId}'s image holds no runner: boot an image with the actions runner; power off`, deps);
}

/** Retires the runner as it was read; LOST if it changed meanwhile. */
async function retire(runner: RunnerRecord, reason: 'surplus' | 'no-config', message: string, deps: RegisterDeps): Promise<Decision> {
  const now = deps.clock.now();
  const retired = await deps.runners.transitionRunner(runner.instanceId, [runner.state], 'retiring', { retireReason: 'surplus' }, now);
  if (!retired) return LOST;
  return refuse(deps, reason, 410, message);
}

async function issueConfig(runner: RunnerRecord, config: RunnerConfig, deps: RegisterDeps): Promise<Decision> {
  const name = runner.runnerName!;
  let jit: JitRunner;
  try {
    const github = await deps.github();
    jit = await github.generateJitConfig(scopeOf(runner), {
      name,
      // Spelled out in full, self-hosted included: whether GitHub adds default labels to JIT
      // runners is disputed, so nothing relies on it (DESIGN.md 3.4).
      labels: config.runnerLabels,
      runnerGroup: runnerGroupFor(scopeOf(runner), config),
    });
  } catch (e) {
    // Nothing was registered, and no retry of this instance can succeed until the operator acts:
    // it powers off, the error names the fix, and the pool's launches are held meanwhile (its demand
    // is launched again one probe at a time, launch-hold.ts).
    if (e instanceof GitHubAppNotInstalledError) {
      deps.logger.error('the GitHub App is not installed where this runner must register', { scope: e.scope, error: e });
      return refuseAndHold(runner, 'not-installed', `${e.message}: power off`, deps);
    }
    if (e instanceof RunnerGroupNotFoundError) {
      deps.logger.error('the runner group of the config does not exist', { group: e.group, scope: e.scope, error: e });
      return refuseAndHold(runner, 'no-runner-group', `${e.message}: power off`, deps);
    }
    if (e instanceof EnterpriseCredentialError) {
      deps.logger.error('the enterprise credential is missing or refused', { enterprise: e.enterprise, error: e });
      return refuseAndHold(runner, 'enterprise-credential', `${e.message}: power off`, deps);
    }
    // The claim stays: the instance asks again and the next call repeats the same steps.
    deps.logger.error('generate-jitconfig failed', { error: e as Error });
    return refuse(deps, 'github-error', 503, `GitHub did not register the runner (${describeError(e)}); ask again`);
  }
  deps.logger.appendKeys({ runnerId: jit.runnerId });

  const recorded = await recordRunnerId(runner.instanceId, jit.runnerId, deps);
  if (recorded.state !== 'registered') {
    // Retired between the claim and now. Nobody else knows this registration's id: remove it.
    await deleteQuietly(scopeOf(runner), jit.runnerId, deps);
    return recorded.state === 'busy'
      ? refuse(deps, 'busy', 409, `runner ${runner.instanceId} already runs a job; it gets no second runner config`)
      : refuse(deps, 'retired', 410, `runner ${runner.instanceId} was retired while registering: power off`);
  }
  deps.metrics.runnerRegistered(config.name);
  deps.logger.info('runner registered; JIT config handed to the instance', { labels: config.runnerLabels });
  return configAnswer(jit.encodedJitConfig);
}

/** Stores GitHub's runner id on a runner still registered; the state it ended in. */
async function recordRunnerId(instanceId: string, runnerId: number, deps: RegisterDeps): Promise<{ state: RunnerRecord['state'] | 'unknown' }> {
  for (let attempt = 1; attempt <= MAX_DECISIONS; attempt++) {
    const now = deps.clock.now();
    const done = await deps.runners.transitionRunner(instanceId, ['registered'], 'registered', { runnerId }, now);
    if (done) return { state: 'registered' };
    const current = await deps.runners.getRunner(instanceId);
    if (current?.state !== 'registered') return { state: current?.state ?? 'unknown' };
  }
  throw new RunnerContendedError(instanceId, MAX_DECISIONS);
}

async function deleteQuietly(scope: RunnerScope, runnerId: number, deps: RegisterDeps): Promise<void> {
  try {
    const result = await (await deps.github()).deleteRunner(scope, runnerId);
    deps.logger.info('removed the registration of a runner retired while registering', { result });
  } catch (e) {
    // The reconciler deletes registrations with our prefix whose instance is gone.
    deps.logger.warn('could not remove the registration of a runner retired while registering', { error: e as Error });
  }
}

function runnerGroupFor(scope: RunnerScope, config: RunnerConfig): RunnerGroupRef {
  if (scope.kind === 'repo') return { id: DEFAULT_RUNNER_GROUP_ID };
  return config.runnerGroupName !== undefined ? { name: config.runnerGroupName } : { id: config.runnerGroupId };
}

async function refuseAndHold(runner: RunnerRecord, reason: HoldReason, message: string, deps: RegisterDeps): Promise<RegisterAnswer> {
  await holdLaunches(runner.poolId, reason, deps);
  return refuse(deps, reason, 410, message);
}

function refuse(deps: RegisterDeps, reason: RefusalReason, status: number, message: string, action?: RegisterAction): RegisterAnswer {
  deps.metrics.registrationRefused(reason);
  return jsonAnswer(status, message, action);
}

function failure(e: unknown, deps: RegisterDeps): RegisterAnswer {
  if (e instanceof CallerNotAllowedError) {
    deps.logger.warn('caller refused', { caller: e.caller, reason: e.message });
    return refuse(deps, 'caller', 403, e.message);
  }
  if (e instanceof BadRegisterRequestError) {
    deps.logger.warn('request refused: its body is not one the endpoint knows', { reason: e.message });
    return refuse(deps, 'bad-request', 400, e.message);
  }
  if (e instanceof RunnerContendedError) {
    deps.logger.warn('runner kept changing while deciding', { attempts: e.attempts });
    return refuse(deps, 'contended', 503, e.message);
  }
  if (e instanceof ConfigError) {
    deps.logger.error('runner configs unusable', { error: e });
    return jsonAnswer(500, `runner configs unusable: ${e.message} Ask again.`);
  }
  deps.logger.error('register failed', { error: e as Error });
  return jsonAnswer(500, 'internal error while registering the runner; ask again');
}

/** The class and HTTP status of a failure, never its message: GitHub's may quote the request. */
function describeError(e: unknown): string {
  const name = e instanceof Error ? e.name : typeof e;
  const status = typeof e === 'object' && e !== null && 'status' in e ? ` ${String((e as { status: unknown }).status)}` : '';
  return `${name}${status}`;
}
