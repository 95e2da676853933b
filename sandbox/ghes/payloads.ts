// JSON shapes of the REST responses and webhook payloads, modelled on the GHES 3.19 OpenAPI schemas
// and the ghes-3.x examples of @octokit/webhooks-examples, with GitHub's null/0 rules (reference/github.md 2).
import { readFileSync } from 'fs';
import { DEFAULT_GROUP, JobRecord, RUNNER_VERSION, RunnerRecord } from './actions';
import { Account, Installation, nodeId, Repo } from './directory';
import { isoSeconds } from './sim-time';

/** The simulated instance: `api` ends in /api/v3, `web` is its root; the App and its installations date from `createdAt`. */
export type Instance = { readonly api: string; readonly web: string; readonly appId: number; readonly createdAt: number; readonly app: AppInfo };

/** The App as GitHub shows it: the one the simulator starts with, or the one a manifest created. */
export type AppInfo = {
  readonly slug: string;
  readonly name: string;
  readonly owner: Account;
  readonly permissions: Readonly<Record<string, string>>;
  readonly events: readonly string[];
  readonly clientId: string;
};

/** The App a simulator made with one has: every permission the control plane may use. */
export const APP = {
  slug: 'ephemeral-runners',
  name: 'ephemeral-runners',
  permissions: { actions: 'write', administration: 'write', metadata: 'read', organization_self_hosted_runners: 'write' },
  events: ['workflow_job'],
  clientId: 'Iv1.0000000000000001',
} as const;

type Example = { name: string; examples: Record<'repository' | 'organization' | 'sender', Record<string, unknown>>[] };
/** The ghes-3.5 `workflow_job` example: the template of every user, repository and organization object. */
const EXAMPLE = (JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples/ghes-35/index.json'), 'utf8')) as Example[])
  .find((e) => e.name === 'workflow_job')!.examples[0];

/** A copy of an example object with github.com's URLs and host, and the example's `names`, swapped for the instance's. */
function rebase(example: Record<string, unknown>, ghes: Instance, names: Record<string, string>): Record<string, unknown> {
  const host = new URL(ghes.web).host;
  const swaps: Record<string, string> = { 'https://api.github.com': ghes.api, 'https://github.com': ghes.web, 'github.com': host, ...names };
  const pattern = new RegExp(Object.keys(swaps).map((k) => k.replace(/\./g, '\\.')).join('|'), 'g');
  return JSON.parse(JSON.stringify(example).replace(pattern, (found) => swaps[found])) as Record<string, unknown>;
}

/** A user or organization object of the example, rebased and carrying the account's ids and avatar. */
function accountJson(example: Record<string, unknown>, ghes: Instance, exampleLogin: string, a: Account): Record<string, unknown> {
  return { ...rebase(example, ghes, { [exampleLogin]: a.login }), id: a.id, node_id: a.nodeId, avatar_url: `${ghes.web}/avatars/u/${a.id}?` };
}

export function userJson(ghes: Instance, a: Account): Record<string, unknown> {
  return { ...accountJson(EXAMPLE.sender, ghes, 'octocat', a), type: a.type, site_admin: false };
}

/** A fresh private repository: no description, counters 0, everything dated at the App's creation. */
export function repositoryJson(ghes: Instance, repo: Repo): Record<string, unknown> {
  const at = isoSeconds(ghes.createdAt);
  return {
    ...rebase(EXAMPLE.repository, ghes, { 'octo-org/example-workflow': repo.fullName }),
    id: repo.id,
    node_id: repo.nodeId,
    name: repo.name,
    full_name: repo.fullName,
    owner: userJson(ghes, repo.owner),
    description: null,
    created_at: at,
    updated_at: at,
    pushed_at: at,
    visibility: 'private',
  };
}

export function installationJson(ghes: Instance, inst: Installation): Record<string, unknown> {
  const { account } = inst;
  const settings = account.type === 'Organization' ? `organizations/${account.login}/settings` : 'settings';
  return {
    id: inst.id,
    account: userJson(ghes, account),
    repository_selection: 'all',
    access_tokens_url: `${ghes.api}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${ghes.api}/installation/repositories`,
    html_url: `${ghes.web}/${settings}/installations/${inst.id}`,
    app_id: ghes.appId,
    client_id: ghes.app.clientId,
    app_slug: ghes.app.slug,
    target_id: account.id,
    target_type: account.type,
    permissions: ghes.app.permissions,
    events: ghes.app.events,
    created_at: isoSeconds(ghes.createdAt),
    updated_at: isoSeconds(ghes.createdAt),
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
    contact_email: null,
  };
}

/** The App (the OpenAPI `integration` schema): GET /app, and the body of a manifest's conversion. */
export function appJson(ghes: Instance, installations: number): Record<string, unknown> {
  const at = isoSeconds(ghes.createdAt);
  return {
    id: ghes.appId,
    slug: ghes.app.slug,
    node_id: nodeId('Integration', ghes.appId),
    client_id: ghes.app.clientId,
    owner: userJson(ghes, ghes.app.owner),
    name: ghes.app.name,
    description: '',
    external_url: ghes.web,
    html_url: `${ghes.web}/github-apps/${ghes.app.slug}`,
    created_at: at,
    updated_at: at,
    permissions: ghes.app.permissions,
    events: ghes.app.events,
    installations_count: installations,
  };
}

/** A user or organization as GET /users/{username} shows it to anyone (the OpenAPI `public-user` schema). */
export function publicUserJson(ghes: Instance, a: Account): Record<string, unknown> {
  const at = isoSeconds(ghes.createdAt);
  return {
    ...userJson(ghes, a),
    name: null,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: at,
    updated_at: at,
  };
}

export function runnerJson(runner: RunnerRecord, status: 'online' | 'offline'): Record<string, unknown> {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.connected ? 'Linux' : 'unknown',
    status,
    busy: runner.jobId !== undefined,
    ephemeral: true,
    runner_group_id: runner.groupId,
    version: runner.connected ? RUNNER_VERSION : null,
    labels: runner.labels.map((l) => ({ ...l })),
  };
}

/** The job object: the same fields in GET …/actions/jobs/{id} and in the `workflow_job` webhook. */
export function jobJson(ghes: Instance, job: JobRecord): Record<string, unknown> {
  const repoApi = `${ghes.api}/repos/${job.run.repo.fullName}`;
  const completed = job.completedAt === null ? null : isoSeconds(job.completedAt);
  // Null while no runner has the job; 0 and "" once it completed without ever getting one (OBS).
  const assigned = job.runnerId !== undefined;
  const unassigned = <T>(never: T): T | null => (job.status === 'completed' ? never : null);
  const step = (name: string, number: number, conclusion: string | null): Record<string, unknown> =>
    ({ name, status: 'completed', conclusion, number, started_at: isoSeconds(job.startedAt), completed_at: completed });
  const steps = !assigned ? []
    : completed === null ? [{ ...step('Set up job', 1, null), status: 'in_progress' }]
      : [step('Set up job', 1, 'success'), step('Run workload', 2, job.conclusion), step('Complete job', 3, 'success')];
  return {
    id: job.id,
    run_id: job.run.id,
    run_url: `${repoApi}/actions/runs/${job.run.id}`,
    run_attempt: job.runAttempt,
    node_id: nodeId('CheckRun', job.id),
    head_sha: job.run.headSha,
    head_branch: 'main',
    url: `${repoApi}/actions/jobs/${job.id}`,
    html_url: `${ghes.web}/${job.run.repo.fullName}/actions/runs/${job.run.id}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion,
    created_at: isoSeconds(job.createdAt),
    // Non-null even while queued (reference/github.md 2).
    started_at: isoSeconds(job.startedAt),
    completed_at: completed,
    name: job.name,
    steps,
    check_run_url: `${repoApi}/check-runs/${job.id}`,
    labels: [...job.labels],
    runner_id: assigned ? job.runnerId : unassigned(0),
    runner_name: assigned ? job.runnerName : unassigned(''),
    runner_group_id: assigned ? (job.runnerGroup ?? DEFAULT_GROUP).id : unassigned(0),
    runner_group_name: assigned ? (job.runnerGroup ?? DEFAULT_GROUP).name : unassigned(''),
    workflow_name: job.run.workflowName,
  };
}

/** A `workflow_job` delivery to the App: `installation` is `{id, node_id}` only; organization repositories add `organization` and
 * `enterprise` (every GHES organization is in the instance's enterprise; reference/github.md 2, inference). The sender pushed. */
export function workflowJobPayload(ghes: Instance, action: string, job: JobRecord, installationId: number): Record<string, unknown> {
  const owner = job.run.repo.owner;
  const at = isoSeconds(ghes.createdAt);
  const organization = { ...accountJson(EXAMPLE.organization, ghes, 'octo-org', owner), description: null };
  const enterprise = {
    id: 1,
    slug: 'github',
    name: 'GitHub Enterprise Server (simulated)',
    node_id: nodeId('Enterprise', 1),
    avatar_url: `${ghes.web}/avatars/b/1?`,
    description: null,
    website_url: null,
    html_url: `${ghes.web}/enterprises/github`,
    created_at: at,
    updated_at: at,
  };
  return {
    action,
    workflow_job: jobJson(ghes, job),
    repository: repositoryJson(ghes, job.run.repo),
    ...(owner.type === 'Organization' ? { organization, enterprise } : {}),
    sender: userJson(ghes, { login: 'octocat', id: 1, nodeId: nodeId('User', 1), type: 'User' }),
    installation: { id: installationId, node_id: nodeId('IntegrationInstallation', installationId) },
  };
}
