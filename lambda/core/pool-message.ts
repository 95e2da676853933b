// The SQS message that hands a pool to the provisioner. It names only the pool: the provisioner
// recomputes demand and supply from DynamoDB, so a lost, repeated or reordered message is harmless.

import { PoolMessageError } from './errors';
import { JobState } from './job';
import { poolIdOf, Pool, RunnerScope } from './routing';
import { warmPoolIdOf } from './warm-pool';

export const POOL_MESSAGE_VERSION = 1;

/** Why a pool is handed over: a job event, or a change the control plane noticed itself. */
export type PoolMessageReason =
  | `workflow_job.${JobState}`
  | 'reconciler' // the periodic sweep
  | 'instance-state' // an instance of the pool shut down
  | 'spot-interruption' // an instance of the pool is being reclaimed
  | 'runner-busy' // a runner of the pool took a job of another pool
  | 'fleet-slot' // a slot under the deployment's maxInstances is free and the pool's waiting jobs are owed it
  | 'retry'; // a reconcile that could not finish

export interface PoolMessage {
  readonly version: typeof POOL_MESSAGE_VERSION;
  readonly poolId: string;
  readonly configName: string;
  readonly scope: RunnerScope;
  readonly reason: PoolMessageReason;
  /** The delivery GUID for job events; otherwise an id of the run that sent it. Correlation only. */
  readonly deliveryId: string;
}

/**
 * Hands a config's warm pool to the provisioner: refill, retire stale or surplus instances. The pool
 * has no scope; its id is `warmPoolIdOf(configName)`.
 */
export interface WarmPoolMessage {
  readonly version: typeof POOL_MESSAGE_VERSION;
  readonly kind: 'warm-pool';
  readonly poolId: string;
  readonly configName: string;
  readonly reason: 'reconciler' | 'warm-claimed' | 'instance-state';
  readonly deliveryId: string;
}

/** What the provisioner's queue carries. */
export type ProvisionerMessage = PoolMessage | WarmPoolMessage;

export function buildWarmPoolMessage(configName: string, reason: WarmPoolMessage['reason'], correlationId: string): WarmPoolMessage {
  return { version: POOL_MESSAGE_VERSION, kind: 'warm-pool', poolId: warmPoolIdOf(configName), configName, reason, deliveryId: correlationId };
}

export function isWarmPoolMessage(message: ProvisionerMessage): message is WarmPoolMessage {
  return (message as WarmPoolMessage).kind === 'warm-pool';
}

export function buildPoolMessage(pool: Pool, state: JobState, deliveryId: string): PoolMessage {
  return buildPoolMessageFor(pool, `workflow_job.${state}`, deliveryId);
}

export function buildPoolMessageFor(pool: Pool, reason: PoolMessageReason, correlationId: string): PoolMessage {
  return {
    version: POOL_MESSAGE_VERSION,
    poolId: pool.poolId,
    configName: pool.configName,
    scope: pool.scope,
    reason,
    deliveryId: correlationId,
  };
}

/** Reads a message body; throws {@link PoolMessageError} saying what is wrong. For the provisioner. */
export function parsePoolMessage(body: string): ProvisionerMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new PoolMessageError(`pool message is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof json !== 'object' || json === null) throw new PoolMessageError('pool message is not a JSON object');
  const m = json as Record<string, unknown>;
  if (m.version !== POOL_MESSAGE_VERSION) throw new PoolMessageError(`pool message version must be ${POOL_MESSAGE_VERSION}, found ${String(m.version)}`);
  for (const field of ['poolId', 'configName', 'reason', 'deliveryId'] as const) {
    if (typeof m[field] !== 'string' || m[field] === '') throw new PoolMessageError(`pool message lacks the string field ${field}`);
  }
  if (m.kind === 'warm-pool') {
    if (m.poolId !== warmPoolIdOf(m.configName as string)) throw new PoolMessageError(`warm pool message poolId ${String(m.poolId)} does not match its configName`);
    if (!['reconciler', 'warm-claimed', 'instance-state'].includes(m.reason as string)) throw new PoolMessageError(`warm pool message reason ${String(m.reason)} is unknown`);
    return buildWarmPoolMessage(m.configName as string, m.reason as WarmPoolMessage['reason'], m.deliveryId as string);
  }
  const scope = parseScope(m.scope);
  if (poolIdOf(scope, m.configName as string) !== m.poolId) {
    throw new PoolMessageError(`pool message poolId ${String(m.poolId)} does not match its scope and configName`);
  }
  return {
    version: POOL_MESSAGE_VERSION,
    poolId: m.poolId as string,
    configName: m.configName as string,
    scope,
    reason: m.reason as PoolMessageReason,
    deliveryId: m.deliveryId as string,
  };
}

function parseScope(value: unknown): RunnerScope {
  const s = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (s.kind === 'enterprise' && typeof s.enterprise === 'string' && s.enterprise !== '') return { kind: 'enterprise', enterprise: s.enterprise };
  if (s.kind === 'org' && typeof s.org === 'string' && s.org !== '') return { kind: 'org', org: s.org };
  if (s.kind === 'repo' && typeof s.owner === 'string' && s.owner !== '' && typeof s.repo === 'string' && s.repo !== '') {
    return { kind: 'repo', owner: s.owner, repo: s.repo };
  }
  throw new PoolMessageError('pool message scope must be { kind: "enterprise", enterprise }, { kind: "org", org } or { kind: "repo", owner, repo }');
}
