// Item shapes of the state table and their conversion from and to the domain's records.

import { compact, Item, num, optNum, optStr, str } from './attributes';
import { StateItemError } from './errors';
import { deliveryItemKey, PARTITION_KEY, TTL_ATTRIBUTE } from './table-schema';
import { DeliveryRecord } from '../core/delivery';
import { JOB_STATE_RANK, JobRecord, JobState } from '../core/job';
import { RunnerScope } from '../core/routing';

export function deliveryToItem(record: DeliveryRecord): Item {
  return compact({
    ...deliveryItemKey(record.deliveryId),
    itemType: 'delivery',
    deliveryId: record.deliveryId,
    event: record.event,
    action: record.action,
    answerStatus: record.answer.status,
    answerBody: record.answer.body,
    receivedAt: record.receivedAt,
    [TTL_ATTRIBUTE]: record.expiresAt,
    githubHost: record.job?.githubHost,
    jobId: record.job?.jobId,
    // `pool`, not `poolId`: deliveries must stay out of the pool index.
    pool: record.poolId,
  });
}

export function deliveryFromItem(item: Item): DeliveryRecord {
  const where = `delivery item ${String(item[PARTITION_KEY])}`;
  return compact({
    deliveryId: str(item, 'deliveryId', where),
    event: str(item, 'event', where),
    action: optStr(item, 'action', where),
    answer: { status: num(item, 'answerStatus', where), body: str(item, 'answerBody', where) },
    receivedAt: str(item, 'receivedAt', where),
    expiresAt: num(item, TTL_ATTRIBUTE, where),
    job: item.jobId === undefined ? undefined : { githubHost: str(item, 'githubHost', where), jobId: num(item, 'jobId', where) },
    poolId: optStr(item, 'pool', where),
  }) as DeliveryRecord;
}

export function jobFromItem(item: Item): JobRecord {
  const where = `job item ${String(item[PARTITION_KEY])}`;
  const state = str(item, 'state', where);
  if (!(state in JOB_STATE_RANK)) throw new StateItemError(`${where}: unknown state ${state}`);
  const labels = item.labels;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw new StateItemError(`${where}: labels is not a list of strings`);
  return compact({
    key: { githubHost: str(item, 'githubHost', where), jobId: num(item, 'jobId', where) },
    state: state as JobState,
    runId: num(item, 'runId', where),
    runAttempt: optNum(item, 'runAttempt', where),
    repo: str(item, 'repo', where),
    org: optStr(item, 'org', where),
    labels: labels as string[],
    pool: { poolId: str(item, 'pool', where), configName: str(item, 'configName', where), scope: scopeFromItem(item.scope, where) },
    installationId: optNum(item, 'installationId', where),
    workflowName: optStr(item, 'workflowName', where),
    runnerName: optStr(item, 'runnerName', where),
    conclusion: optStr(item, 'conclusion', where),
    createdAt: str(item, 'createdAt', where),
    updatedAt: str(item, 'updatedAt', where),
    expiresAt: optNum(item, TTL_ATTRIBUTE, where),
  }) as JobRecord;
}

export function scopeFromItem(value: unknown, where: string): RunnerScope {
  const s = (value ?? {}) as Item;
  if (s.kind === 'enterprise' && typeof s.enterprise === 'string') return { kind: 'enterprise', enterprise: s.enterprise };
  if (s.kind === 'org' && typeof s.org === 'string') return { kind: 'org', org: s.org };
  if (s.kind === 'repo' && typeof s.owner === 'string' && typeof s.repo === 'string') return { kind: 'repo', owner: s.owner, repo: s.repo };
  throw new StateItemError(`${where}: scope is not { kind: enterprise, enterprise }, { kind: org, org } or { kind: repo, owner, repo }`);
}
