// The webhook's logic: check, route and record one GitHub delivery, and hand the affected pool to
// the provisioner. Answers with {status, body}; never calls EC2 or GitHub. Bad input writes nothing.

import { PayloadError, UnsupportedContentTypeError } from './errors';
import { bodyByteLength, header, jsonAnswer, rawBody, WebhookRequest } from './http';
import { checkDeliveryId, checkEventName, decodePayload, parseWorkflowJob, readAction } from './payload';
import { isSignatureValid, SIGNATURE_HEADER } from './signature';
import { IgnoredReason, WebhookMetrics } from './webhook-metrics';
import { LabelMatch } from '../../src/runner-labels';
import { boundedLabels, Logger } from '../common/logger';
import { markJobRunnerBusy } from '../core/busy-runner';
import { WebhookAnswer, deliveryExpiry } from '../core/delivery';
import { ConfigError, SecretNotSetError } from '../core/errors';
import { JobEvent, JobRecord, jobStateForAction, planJobTransition } from '../core/job';
import { buildPoolMessage } from '../core/pool-message';
import { Clock, DeliveryStore, JobStore, PoolQueue, RunnerConfigSource, RunnerStore } from '../core/ports';
import { poolFor, routeJob } from '../core/routing';
import { RunnerRecord, startOf } from '../core/runner';
import { RunnerConfig } from '../core/runner-config';

/** workflow_job payloads are a few kilobytes; GitHub's own cap is 25 MB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The webhook secret, cached; `CachedSecret` implements it. */
export interface WebhookSecret {
  get(): Promise<string>;
  /** Re-reads the secret if the cached one is old enough to have been rotated; whether it did. */
  reloadIfStale(): Promise<boolean>;
}

export interface WebhookDeps {
  /** Lower-case hostname of the GitHub server; part of job keys. */
  readonly githubHost: string;
  readonly deliveries: DeliveryStore;
  readonly jobs: JobStore;
  readonly queue: PoolQueue;
  /** Should cache: it is asked once per accepted-looking delivery. */
  readonly configs: RunnerConfigSource;
  readonly secret: WebhookSecret;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: WebhookMetrics;
  /**
   * When given, a job that starts marks its runner busy at once (the runner's name carries its
   * instance id), so the runner's end is not mistaken for an idle runner's while the provisioner
   * has yet to link it. The provisioner links runners too; this only comes first.
   */
  readonly runners?: { readonly store: RunnerStore; readonly namePrefix: string };
  /**
   * The handler answers 503 once less than this is left of the invocation (Lambda's remaining
   * time), rather than let GitHub's wait or the function's timeout run out. @default no deadline
   */
  readonly answerMarginMs?: number;
}

export async function handleDelivery(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookAnswer> {
  try {
    const answer = await handle(request, deps);
    deps.logger.info('delivery answered', { status: answer.status, answer: answer.body });
    return answer;
  } catch (e) {
    const answer = failure(e, deps.logger);
    deps.logger.info('delivery answered', { status: answer.status, answer: answer.body });
    return answer;
  } finally {
    deps.logger.resetKeys();
  }
}

async function handle(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookAnswer> {
  const { logger, metrics } = deps;
  const method = request.method?.toUpperCase();
  if (method !== undefined && method !== 'POST') {
    return jsonAnswer(405, `method ${method} is not allowed: GitHub delivers webhooks with POST`);
  }
  const size = bodyByteLength(request);
  if (size > MAX_BODY_BYTES) {
    return jsonAnswer(413, `body is ${size} bytes; at most ${MAX_BODY_BYTES} are accepted. Only GitHub workflow_job deliveries belong here`);
  }
  const signature = header(request, SIGNATURE_HEADER);
  if (signature === undefined) {
    return jsonAnswer(401, 'X-Hub-Signature-256 header missing: give the GitHub App a webhook secret, the same value as stored in the webhook secret SSM parameter');
  }
  if (size === 0) return jsonAnswer(400, 'body is empty: a GitHub delivery carries a JSON payload');

  // Signature first: nothing of an unverified body is parsed, logged or stored.
  const raw = rawBody(request);
  if (!(await signatureMatches(raw, signature, deps))) {
    return jsonAnswer(401, 'X-Hub-Signature-256 does not match the body: the GitHub App webhook secret and the webhook secret SSM parameter must hold the same value');
  }

  const deliveryId = checkDeliveryId(header(request, 'x-github-delivery'));
  const event = checkEventName(header(request, 'x-github-event'));
  logger.appendKeys({ deliveryId, event });
  const payload = decodePayload(raw, header(request, 'content-type'));

  if (event === 'ping') return jsonAnswer(200, 'pong');
  if (event !== 'workflow_job') return ignore(metrics, 'event', `event ${event} ignored: this webhook handles workflow_job only`);

  const action = readAction(payload);
  logger.appendKeys({ action });
  const state = jobStateForAction(action);
  if (state === undefined) {
    return ignore(metrics, 'action', `workflow_job.${action} ignored: only queued, in_progress and completed move a job`);
  }
  const job = parseWorkflowJob(payload, state, deps.githubHost);
  logger.appendKeys({ jobId: job.key.jobId, runId: job.runId, repo: `${job.origin.owner}/${job.origin.repo}` });
  return acceptJob(job, event, action, deliveryId, deps);
}

async function acceptJob(job: JobEvent, event: string, action: string, deliveryId: string, deps: WebhookDeps): Promise<WebhookAnswer> {
  const { logger, metrics } = deps;
  const recorded = await deps.deliveries.getDelivery(deliveryId);
  if (recorded) {
    logger.info('duplicate delivery: answered as before, nothing changed');
    return recorded.answer;
  }

  const configs = await deps.configs.loadConfigs();
  const match = routeJob(job.labels, configs);
  const pool = match.kind === 'matched' ? poolFor(match.config, job.origin) : undefined;
  const unrouted = match.kind === 'matched' ? undefined : unroutedAnswer(match, job.labels, deps);
  // A queued job nobody routes is not ours. A later event of an unrouted job may still be: the
  // job was routed when queued and the configs changed since; the transition below moves it only
  // if it is known.
  if (unrouted && job.state === 'queued') return unrouted();
  if (match.kind === 'matched' && match.tiedWith.length > 0 && job.state === 'queued') {
    logger.info('job labels match several runner configs equally well; routed by priority, then order', { config: match.config.name, tiedWith: match.tiedWith.map((c) => c.name) });
  }

  // Order of the three writes, for crash safety. The function can die between any two steps and
  // a redelivery (same GUID) follows; the delivery record is what turns a redelivery into a
  // duplicate, so it is written last, after every side effect:
  //   1. move the job: conditional and forward-only, so repeating it changes nothing;
  //   2. send the pool message;
  //   3. record the delivery with its answer.
  // A crash after 1 leaves no record: the redelivery repeats 1 (a no-op) and still sends 2. That
  // redelivery looks exactly like a fresh delivery whose transition changed nothing, so every
  // accepted delivery not yet recorded sends its message: an extra message costs one idempotent
  // reconcile, a missing one strands a queued job. A crash after 2 sends the message twice, at the
  // same cost. Recording first would instead turn a crash after 1 into a duplicate whose message
  // was never sent.
  // A started job's runner is marked busy before the job leaves the queued count. Whoever weighs a
  // pool's queued jobs against its idle runners meanwhile (the register endpoint, the provisioner)
  // then never sees the job gone while its runner still looks idle, which would refuse or retire a
  // runner another job needs; at worst it sees both busy and queued for a moment, and the
  // provisioner's read of busy runners drops such a job from the demand.
  const startedHere = job.state === 'in_progress' && pool !== undefined;
  let busy = startedHere ? await markRunnerBusy({ key: job.key, runnerName: job.runnerName, pool }, deliveryId, deps) : undefined;
  const now = deps.clock.now();
  const { changed, job: stored } = await deps.jobs.applyJobTransition(planJobTransition(job, pool, now));
  // Only an unrouted event can fail to find or create its job.
  if (stored === undefined) return unrouted!();
  const { poolId, configName } = stored.pool;
  logger.appendKeys({ poolId, configName });

  await deps.queue.send(buildPoolMessage(stored.pool, job.state, deliveryId));
  // A job no config routes now, but known from when it was queued: its runner is marked once the job is found.
  if (!startedHere && stored.state === 'in_progress') busy = await markRunnerBusy(stored, deliveryId, deps);

  const answer = jsonAnswer(202, `accepted: job ${job.key.jobId} ${job.state}, pool ${poolId}`, { jobId: job.key.jobId, poolId, configName });
  await deps.deliveries.recordDelivery({
    deliveryId,
    event,
    action,
    answer,
    receivedAt: new Date(now).toISOString(),
    expiresAt: deliveryExpiry(now),
    job: job.key,
    poolId,
  });
  metrics.jobEventAccepted(configName, job.state);
  // Queued to started, from the job's first record (a job first seen in progress has no wait to tell),
  // and by how its runner came up when this delivery marked it busy (the provisioner's link, the
  // backstop, knows no wait).
  if (changed && stored.state === 'in_progress' && job.state === 'in_progress') {
    const waitMs = now - Date.parse(stored.createdAt);
    if (waitMs > 0) metrics.jobStarted(configName, Math.round(waitMs / 1000), busy && startOf(busy));
  }
  logger.info('job event accepted', { changed, jobState: stored.state, routedNow: pool !== undefined });
  return answer;
}

/**
 * The runner that took the job is busy. Best effort: the provisioner's link is the backstop, so a
 * failure here is logged, and the delivery still answered.
 */
async function markRunnerBusy(job: Pick<JobRecord, 'key' | 'runnerName' | 'pool'>, deliveryId: string, deps: WebhookDeps): Promise<RunnerRecord | undefined> {
  if (!deps.runners) return undefined;
  try {
    const ports = { runners: deps.runners.store, queue: deps.queue, clock: deps.clock };
    const busy = await markJobRunnerBusy(ports, deps.runners.namePrefix, job, deliveryId);
    if (busy) deps.logger.info('runner took a job', { instanceId: busy.instanceId, runnerName: job.runnerName, runnerPool: busy.poolId });
    return busy;
  } catch (error) {
    deps.logger.warn('could not mark the runner busy; the provisioner links it', { runnerName: job.runnerName, error: error as Error });
    return undefined;
  }
}

async function signatureMatches(raw: string, signature: string, deps: WebhookDeps): Promise<boolean> {
  if (await isSignatureValid(await deps.secret.get(), raw, signature)) return true;
  // The secret may have been rotated since this container read it: re-read it, at most once per
  // few minutes (so forged requests cannot hammer SSM), before refusing.
  if (!(await deps.secret.reloadIfStale())) return false;
  deps.logger.info('signature did not match the cached webhook secret; re-read the secret and checked again');
  return isSignatureValid(await deps.secret.get(), raw, signature);
}

/** Logs, counts and answers a job that no config matches, or several equally with nothing to rank them. */
function unroutedAnswer(match: LabelMatch<RunnerConfig>, jobLabels: readonly string[], deps: WebhookDeps): () => WebhookAnswer {
  const labels = boundedLabels(jobLabels);
  if (match.kind === 'ambiguous') {
    const names = match.candidates.map((c) => c.name);
    return () => {
      deps.logger.warn('job labels match several runner configs equally well and their documents do not rank them; routed to none', { labels, configs: names });
      return ignore(deps.metrics, 'ambiguous', `labels ${JSON.stringify(labels)} match runner configs ${names.join(', ')} equally well, and their parameters carry no `
        + 'priority and order to break the tie (written by an older deployment, or by hand); job ignored. Redeploy the construct to rewrite them');
    };
  }
  return () => {
    deps.logger.info('no runner config matches the job labels; it may belong to another runner system', { labels });
    return ignore(deps.metrics, 'unmatched', `no runner config matches labels ${JSON.stringify(labels)}; job ignored`);
  };
}

function ignore(metrics: WebhookMetrics, reason: IgnoredReason, message: string): WebhookAnswer {
  metrics.eventIgnored(reason);
  return jsonAnswer(200, message);
}

/** The answer for an error; unexpected ones leave no record, so a redelivery retries the whole delivery. */
function failure(e: unknown, logger: Logger): WebhookAnswer {
  if (e instanceof PayloadError) return jsonAnswer(400, e.message, e.field ? { field: e.field } : {});
  if (e instanceof UnsupportedContentTypeError) return jsonAnswer(415, e.message);
  if (e instanceof SecretNotSetError) {
    logger.error('webhook secret not set', { parameterName: e.parameterName });
    return jsonAnswer(503, `${e.message}, then redeliver this delivery`);
  }
  if (e instanceof ConfigError) {
    logger.error('runner configs unusable', { error: e });
    return jsonAnswer(500, `${e.message} Then redeliver this delivery.`);
  }
  logger.error('delivery failed', { error: e as Error });
  return jsonAnswer(500, 'internal error while handling the delivery. It was not recorded, so redelivering it is safe (the reconciler redelivers failed deliveries)');
}
