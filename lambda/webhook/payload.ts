// Turns a verified delivery body into what the webhook needs of it, and refuses payloads without
// the fields it needs (naming the field). Pure; runs only after the signature check.

import { PayloadError, UnsupportedContentTypeError } from './errors';
import { isValidLogin, isValidRepoName } from '../core/github-names';
import { JobEvent, JobState } from '../core/job';

/** More `runs-on` labels than any real workflow has; bounds what a matched job stores. */
export const MAX_JOB_LABELS = 256;
const MAX_RUNNER_NAME_LENGTH = 1024;
/** A workflow name longer than this is stored cut: it only labels cost, and a tag value takes 256 characters. */
const MAX_WORKFLOW_NAME_LENGTH = 1024;
const DELIVERY_ID = /^[A-Za-z0-9._-]{1,128}$/;
const EVENT_NAME = /^[a-z0-9_]{1,64}$/;

type Json = Record<string, unknown>;

/**
 * The JSON payload of a delivery: the body itself (`application/json`), or its `payload` form
 * field (`application/x-www-form-urlencoded`, the hook default when created by hand).
 */
export function decodePayload(rawBody: string, contentType: string | undefined): Json {
  const mediaType = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  let text: string;
  if (mediaType === 'application/json' || mediaType === '') {
    text = rawBody;
  } else if (mediaType === 'application/x-www-form-urlencoded') {
    const field = new URLSearchParams(rawBody).get('payload');
    if (field === null) throw new PayloadError('payload', 'form-encoded delivery has no `payload` field');
    text = field;
  } else {
    throw new UnsupportedContentTypeError(mediaType);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PayloadError(undefined, `body is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PayloadError(undefined, 'body must be a JSON object');
  }
  return json as Json;
}

export function checkDeliveryId(value: string | undefined): string {
  if (value === undefined) throw new PayloadError('X-GitHub-Delivery', 'the X-GitHub-Delivery header is missing');
  if (!DELIVERY_ID.test(value)) throw new PayloadError('X-GitHub-Delivery', 'the X-GitHub-Delivery header is not a delivery GUID');
  return value;
}

export function checkEventName(value: string | undefined): string {
  if (value === undefined) throw new PayloadError('X-GitHub-Event', 'the X-GitHub-Event header is missing');
  if (!EVENT_NAME.test(value)) throw new PayloadError('X-GitHub-Event', 'the X-GitHub-Event header is not an event name');
  return value;
}

export function readAction(payload: Json): string {
  const action = payload.action;
  if (typeof action !== 'string' || action === '') throw missing('action', 'a string');
  return action;
}

/** The job event of a `workflow_job` payload whose action moves a job (`state`). */
export function parseWorkflowJob(payload: Json, state: JobState, githubHost: string): JobEvent {
  const job = payload.workflow_job;
  if (!isObject(job)) throw missing('workflow_job', 'an object');
  const jobId = positiveInteger(job.id, 'workflow_job.id');
  const runId = positiveInteger(job.run_id, 'workflow_job.run_id');
  // run_attempt is absent in the payloads of older GHES releases.
  const runAttempt = job.run_attempt === undefined || job.run_attempt === null ? undefined : positiveInteger(job.run_attempt, 'workflow_job.run_attempt');

  const labels = job.labels;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw missing('workflow_job.labels', 'an array of strings');
  if (labels.length > MAX_JOB_LABELS) {
    throw new PayloadError('workflow_job.labels', `workflow_job.labels has ${labels.length} labels; at most ${MAX_JOB_LABELS} are accepted`);
  }

  const repository = payload.repository;
  if (!isObject(repository)) throw missing('repository', 'an object');
  const repo = repository.name;
  if (!isValidRepoName(repo)) throw invalidName('repository.name', 'a repository name (letters, digits, ".", "-", "_")');
  const owner = isObject(repository.owner) ? repository.owner.login : undefined;
  if (!isValidLogin(owner)) throw invalidName('repository.owner.login', 'a GitHub login (letters, digits, "-", "_")');

  let org: string | undefined;
  if (payload.organization !== undefined && payload.organization !== null) {
    const login = isObject(payload.organization) ? payload.organization.login : undefined;
    if (!isValidLogin(login)) throw invalidName('organization.login', 'an organization login (letters, digits, "-")');
    org = login;
  }

  // "If you are responding to a webhook event, the webhook payload will include the installation ID"
  // (docs.github.com, Generating an installation access token for a GitHub App): the runner of this
  // job registers through it.
  const installation = payload.installation;
  const installationId = isObject(installation) && installation.id !== undefined ? positiveInteger(installation.id, 'installation.id') : undefined;

  return {
    key: { githubHost, jobId },
    state,
    runId,
    runAttempt,
    origin: { owner, repo, org },
    labels: labels as string[],
    // Jobs that never got a runner report "" (not null) here: both mean "no runner".
    runnerName: optionalString(job.runner_name, 'workflow_job.runner_name', MAX_RUNNER_NAME_LENGTH),
    conclusion: optionalString(job.conclusion, 'workflow_job.conclusion', 64),
    installationId,
    workflowName: workflowNameOf(job.workflow_name),
  };
}

/**
 * `workflow_name`: the workflow's `name:`, or its file path when it sets none ("If you omit name,
 * GitHub displays the workflow file path relative to the root of the repository", Workflow syntax
 * for GitHub Actions). Whatever its author wrote, so it never fails the delivery: any other type is
 * dropped, a long one cut; it is made a valid tag value only where it becomes one (core/cost-tags.ts).
 */
function workflowNameOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return value.slice(0, MAX_WORKFLOW_NAME_LENGTH);
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw missing(field, 'a positive integer');
  return value;
}

function optionalString(value: unknown, field: string, maxLength: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw new PayloadError(field, `${field} must be null or a string of at most ${maxLength} characters`);
  }
  return value;
}

function missing(field: string, expected: string): PayloadError {
  return new PayloadError(field, `workflow_job delivery: ${field} must be ${expected}; this is not a payload GitHub sends`);
}

function invalidName(field: string, expected: string): PayloadError {
  return new PayloadError(field, `workflow_job delivery: ${field} must be ${expected}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
