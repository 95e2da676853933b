// JSON shapes of the REST responses and webhook payloads, modelled on the GHES 3.19 OpenAPI schemas
// and the ghes-3.x examples of @octokit/webhooks-examples, with GitHub's null/0 rules (reference/github.md 2).
import { DEFAULT_GROUP, JobRecord, RUNNER_VERSION, RunnerRecord } from './actions';
import { Account, Installation, nodeId, Repo } from './directory';
import { isoSeconds } from './sim-time';

/** Where the simulated instance lives: `api` ends in /api/v3, `web` is the instance root. */
export interface Urls {
  readonly api: string;
  readonly web: string;
}

export const APP = {
  slug: 'ephemeral-runners',
  permissions: { actions: 'write', administration: 'write', metadata: 'read', organization_self_hosted_runners: 'write' },
  events: ['workflow_job'],
} as const;

/** `<name>_url` → path under the resource's API URL, for the hypermedia links of users and repositories. */
const links = (base: string, paths: readonly (readonly [string, string])[]): Record<string, string> =>
  Object.fromEntries(paths.map(([name, path]) => [`${name}_url`, `${base}${path}`]));

const USER_LINKS = [
  ['followers', '/followers'], ['following', '/following{/other_user}'], ['gists', '/gists{/gist_id}'], ['starred', '/starred{/owner}{/repo}'],
  ['subscriptions', '/subscriptions'], ['organizations', '/orgs'], ['repos', '/repos'], ['events', '/events{/privacy}'],
  ['received_events', '/received_events'],
] as const;

const REPO_LINKS = [
  ['forks', '/forks'], ['keys', '/keys{/key_id}'], ['collaborators', '/collaborators{/collaborator}'], ['teams', '/teams'], ['hooks', '/hooks'],
  ['issue_events', '/issues/events{/number}'], ['events', '/events'], ['assignees', '/assignees{/user}'], ['branches', '/branches{/branch}'],
  ['tags', '/tags'], ['blobs', '/git/blobs{/sha}'], ['git_tags', '/git/tags{/sha}'], ['git_refs', '/git/refs{/sha}'], ['trees', '/git/trees{/sha}'],
  ['statuses', '/statuses/{sha}'], ['languages', '/languages'], ['stargazers', '/stargazers'], ['contributors', '/contributors'],
  ['subscribers', '/subscribers'], ['subscription', '/subscription'], ['commits', '/commits{/sha}'], ['git_commits', '/git/commits{/sha}'],
  ['comments', '/comments{/number}'], ['issue_comment', '/issues/comments{/number}'], ['contents', '/contents/{+path}'],
  ['compare', '/compare/{base}...{head}'], ['merges', '/merges'], ['archive', '/{archive_format}{/ref}'], ['downloads', '/downloads'],
  ['issues', '/issues{/number}'], ['pulls', '/pulls{/number}'], ['milestones', '/milestones{/number}'],
  ['notifications', '/notifications{?since,all,participating}'], ['labels', '/labels{/name}'], ['releases', '/releases{/id}'],
  ['deployments', '/deployments'],
] as const;

const ORG_LINKS = [
  ['repos', '/repos'], ['events', '/events'], ['hooks', '/hooks'], ['issues', '/issues'], ['members', '/members{/member}'],
  ['public_members', '/public_members{/member}'],
] as const;

/** The counters and flags of a fresh private repository. */
const REPO_DEFAULTS = Object.fromEntries([
  ['private', true], ['description', null], ['fork', false], ['homepage', null], ['size', 1], ['stargazers_count', 0], ['watchers_count', 0],
  ['language', null], ['has_issues', true], ['has_projects', true], ['has_downloads', true], ['has_wiki', true], ['has_pages', false],
  ['forks_count', 0], ['mirror_url', null], ['archived', false], ['disabled', false], ['open_issues_count', 0], ['license', null], ['forks', 0],
  ['open_issues', 0], ['watchers', 0], ['default_branch', 'main'], ['visibility', 'private'],
] as const);

export function userJson(urls: Urls, a: Account): Record<string, unknown> {
  const url = `${urls.api}/users/${a.login}`;
  return {
    login: a.login,
    id: a.id,
    node_id: a.nodeId,
    avatar_url: `${urls.web}/avatars/u/${a.id}?`,
    gravatar_id: '',
    url,
    html_url: `${urls.web}/${a.login}`,
    ...links(url, USER_LINKS),
    type: a.type,
    site_admin: false,
  };
}

export function repositoryJson(urls: Urls, repo: Repo, createdAt: number): Record<string, unknown> {
  const url = `${urls.api}/repos/${repo.fullName}`;
  const host = new URL(urls.web).host;
  const at = isoSeconds(createdAt);
  return {
    ...REPO_DEFAULTS,
    id: repo.id,
    node_id: repo.nodeId,
    name: repo.name,
    full_name: repo.fullName,
    owner: userJson(urls, repo.owner),
    html_url: `${urls.web}/${repo.fullName}`,
    url,
    ...links(url, REPO_LINKS),
    created_at: at,
    updated_at: at,
    pushed_at: at,
    git_url: `git://${host}/${repo.fullName}.git`,
    ssh_url: `git@${host}:${repo.fullName}.git`,
    clone_url: `${urls.web}/${repo.fullName}.git`,
    svn_url: `${urls.web}/${repo.fullName}`,
  };
}

export function installationJson(urls: Urls, appId: number, createdAt: number, inst: Installation): Record<string, unknown> {
  const { account } = inst;
  const settings = account.type === 'Organization' ? `organizations/${account.login}/settings` : 'settings';
  return {
    id: inst.id,
    account: userJson(urls, account),
    repository_selection: 'all',
    access_tokens_url: `${urls.api}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.web}/${settings}/installations/${inst.id}`,
    app_id: appId,
    app_slug: APP.slug,
    target_id: account.id,
    target_type: account.type,
    permissions: APP.permissions,
    events: APP.events,
    created_at: isoSeconds(createdAt),
    updated_at: isoSeconds(createdAt),
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
    contact_email: null,
  };
}

export function runnerJson(runner: RunnerRecord, status: 'online' | 'offline'): Record<string, unknown> {
  const { connected } = runner;
  return {
    id: runner.id,
    name: runner.name,
    os: connected ? 'Linux' : 'unknown',
    status,
    busy: runner.jobId !== undefined,
    ephemeral: true,
    runner_group_id: DEFAULT_GROUP.id,
    version: connected ? RUNNER_VERSION : null,
    labels: runner.labels.map((l) => ({ ...l })),
  };
}

/** The job object: the same fields in GET …/actions/jobs/{id} and in the `workflow_job` webhook. */
export function jobJson(urls: Urls, job: JobRecord): Record<string, unknown> {
  const repoApi = `${urls.api}/repos/${job.run.repo.fullName}`;
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
    html_url: `${urls.web}/${job.run.repo.fullName}/actions/runs/${job.run.id}/job/${job.id}`,
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
    runner_group_id: assigned ? DEFAULT_GROUP.id : unassigned(0),
    runner_group_name: assigned ? DEFAULT_GROUP.name : unassigned(''),
    workflow_name: 'CI',
  };
}

/**
 * A `workflow_job` delivery to the App: `installation` is `{id, node_id}` only, `organization` is
 * present for organization repositories, and so is `enterprise` (on GHES every organization belongs
 * to the instance's enterprise; reference/github.md 2, inference). The sender is the user who pushed.
 */
export function workflowJobPayload(urls: Urls, action: string, job: JobRecord, installationId: number, createdAt: number): Record<string, unknown> {
  const owner = job.run.repo.owner;
  const org = `${urls.api}/orgs/${owner.login}`;
  const at = isoSeconds(createdAt);
  const organization = {
    login: owner.login, id: owner.id, node_id: owner.nodeId, url: org, ...links(org, ORG_LINKS), avatar_url: `${urls.web}/avatars/u/${owner.id}?`, description: null,
  };
  const enterprise = {
    id: 1,
    slug: 'github',
    name: 'GitHub Enterprise Server (simulated)',
    node_id: nodeId('Enterprise', 1),
    avatar_url: `${urls.web}/avatars/b/1?`,
    description: null,
    website_url: null,
    html_url: `${urls.web}/enterprises/github`,
    created_at: at,
    updated_at: at,
  };
  return {
    action,
    workflow_job: jobJson(urls, job),
    repository: repositoryJson(urls, job.run.repo, createdAt),
    ...(owner.type === 'Organization' ? { organization, enterprise } : {}),
    sender: userJson(urls, { login: 'octocat', id: 1, nodeId: nodeId('User', 1), type: 'User' }),
    installation: { id: installationId, node_id: nodeId('IntegrationInstallation', installationId) },
  };
}
