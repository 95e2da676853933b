// JSON shapes of the REST responses and webhook payloads, modelled on the GHES 3.19 OpenAPI schemas
// and the ghes-3.x examples of @octokit/webhooks-examples, with GitHub's null/0 rules (reference/github.md 2).
import { Account, Installation, nodeId, Repo } from './directory';
import { JobRecord, RunnerRecord } from './model';
import { isoSeconds } from './sim-time';

/** Where the simulated instance lives: `api` ends in /api/v3, `web` is the instance root. */
export interface Urls {
  readonly api: string;
  readonly web: string;
}

export interface AppInfo {
  readonly id: number;
  readonly clientId: string;
  readonly slug: string;
  readonly name: string;
  readonly permissions: Readonly<Record<string, string>>;
  readonly events: readonly string[];
  /** When the App and its installations were created (simulated ms). */
  readonly createdAt: number;
}

export const DEFAULT_GROUP_NAME = 'Default';

export function userJson(urls: Urls, a: Account): Record<string, unknown> {
  const u = `${urls.api}/users/${a.login}`;
  return {
    login: a.login,
    id: a.id,
    node_id: a.nodeId,
    avatar_url: `${urls.web}/avatars/u/${a.id}?`,
    gravatar_id: '',
    url: u,
    html_url: `${urls.web}/${a.login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type: a.type,
    site_admin: false,
  };
}

export function organizationJson(urls: Urls, org: Account): Record<string, unknown> {
  const u = `${urls.api}/orgs/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: org.nodeId,
    url: u,
    repos_url: `${u}/repos`,
    events_url: `${u}/events`,
    hooks_url: `${u}/hooks`,
    issues_url: `${u}/issues`,
    members_url: `${u}/members{/member}`,
    public_members_url: `${u}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/u/${org.id}?`,
    description: null,
  };
}

export function repositoryJson(urls: Urls, repo: Repo, createdAt: number): Record<string, unknown> {
  const u = `${urls.api}/repos/${repo.fullName}`;
  const host = new URL(urls.web).host;
  const at = isoSeconds(createdAt);
  return {
    id: repo.id,
    node_id: repo.nodeId,
    name: repo.name,
    full_name: repo.fullName,
    private: true,
    owner: userJson(urls, repo.owner),
    html_url: `${urls.web}/${repo.fullName}`,
    description: null,
    fork: false,
    url: u,
    forks_url: `${u}/forks`,
    keys_url: `${u}/keys{/key_id}`,
    collaborators_url: `${u}/collaborators{/collaborator}`,
    teams_url: `${u}/teams`,
    hooks_url: `${u}/hooks`,
    issue_events_url: `${u}/issues/events{/number}`,
    events_url: `${u}/events`,
    assignees_url: `${u}/assignees{/user}`,
    branches_url: `${u}/branches{/branch}`,
    tags_url: `${u}/tags`,
    blobs_url: `${u}/git/blobs{/sha}`,
    git_tags_url: `${u}/git/tags{/sha}`,
    git_refs_url: `${u}/git/refs{/sha}`,
    trees_url: `${u}/git/trees{/sha}`,
    statuses_url: `${u}/statuses/{sha}`,
    languages_url: `${u}/languages`,
    stargazers_url: `${u}/stargazers`,
    contributors_url: `${u}/contributors`,
    subscribers_url: `${u}/subscribers`,
    subscription_url: `${u}/subscription`,
    commits_url: `${u}/commits{/sha}`,
    git_commits_url: `${u}/git/commits{/sha}`,
    comments_url: `${u}/comments{/number}`,
    issue_comment_url: `${u}/issues/comments{/number}`,
    contents_url: `${u}/contents/{+path}`,
    compare_url: `${u}/compare/{base}...{head}`,
    merges_url: `${u}/merges`,
    archive_url: `${u}/{archive_format}{/ref}`,
    downloads_url: `${u}/downloads`,
    issues_url: `${u}/issues{/number}`,
    pulls_url: `${u}/pulls{/number}`,
    milestones_url: `${u}/milestones{/number}`,
    notifications_url: `${u}/notifications{?since,all,participating}`,
    labels_url: `${u}/labels{/name}`,
    releases_url: `${u}/releases{/id}`,
    deployments_url: `${u}/deployments`,
    created_at: at,
    updated_at: at,
    pushed_at: at,
    git_url: `git://${host}/${repo.fullName}.git`,
    ssh_url: `git@${host}:${repo.fullName}.git`,
    clone_url: `${urls.web}/${repo.fullName}.git`,
    svn_url: `${urls.web}/${repo.fullName}`,
    homepage: null,
    size: 1,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: 'main',
    visibility: 'private',
  };
}

/** On GHES every organization belongs to the instance's enterprise (reference/github.md 2, inference). */
export function enterpriseJson(urls: Urls, createdAt: number): Record<string, unknown> {
  return {
    id: 1,
    slug: 'github',
    name: 'GitHub Enterprise Server (simulated)',
    node_id: nodeId('Enterprise', 1),
    avatar_url: `${urls.web}/avatars/b/1?`,
    description: null,
    website_url: null,
    html_url: `${urls.web}/enterprises/github`,
    created_at: isoSeconds(createdAt),
    updated_at: isoSeconds(createdAt),
  };
}

export function installationJson(urls: Urls, app: AppInfo, inst: Installation): Record<string, unknown> {
  const at = isoSeconds(app.createdAt);
  return {
    id: inst.id,
    account: userJson(urls, inst.account),
    repository_selection: inst.selection,
    access_tokens_url: `${urls.api}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url:
      inst.account.type === 'Organization'
        ? `${urls.web}/organizations/${inst.account.login}/settings/installations/${inst.id}`
        : `${urls.web}/settings/installations/${inst.id}`,
    app_id: app.id,
    client_id: app.clientId,
    app_slug: app.slug,
    target_id: inst.account.id,
    target_type: inst.account.type,
    permissions: app.permissions,
    events: app.events,
    created_at: at,
    updated_at: at,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
    contact_email: null,
  };
}

export function appJson(urls: Urls, app: AppInfo, owner: Account, installationsCount: number): Record<string, unknown> {
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId('Integration', app.id),
    client_id: app.clientId,
    owner: userJson(urls, owner),
    name: app.name,
    description: 'Ephemeral self-hosted runners (simulated)',
    external_url: `${urls.web}/apps/${app.slug}`,
    html_url: `${urls.web}/github-apps/${app.slug}`,
    created_at: isoSeconds(app.createdAt),
    updated_at: isoSeconds(app.createdAt),
    permissions: app.permissions,
    events: app.events,
    installations_count: installationsCount,
  };
}

export function runnerJson(runner: RunnerRecord, status: 'online' | 'offline'): Record<string, unknown> {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.os,
    status,
    busy: runner.jobId !== undefined,
    ephemeral: true,
    runner_group_id: runner.groupId,
    version: runner.version,
    labels: runner.labels.map((l) => ({ id: l.id, name: l.name, type: l.type })),
  };
}

/** The job object: the same fields in GET …/actions/jobs/{id} and in the `workflow_job` webhook. */
export function jobJson(urls: Urls, job: JobRecord): Record<string, unknown> {
  const repoApi = `${urls.api}/repos/${job.run.repo.fullName}`;
  const neverAssigned = job.status === 'completed' && !job.assignment;
  return {
    id: job.id,
    run_id: job.run.id,
    run_url: `${repoApi}/actions/runs/${job.run.id}`,
    run_attempt: job.runAttempt,
    node_id: nodeId('CheckRun', job.id),
    head_sha: job.run.headSha,
    head_branch: job.run.headBranch,
    url: `${repoApi}/actions/jobs/${job.id}`,
    html_url: `${urls.web}/${job.run.repo.fullName}/actions/runs/${job.run.id}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion,
    created_at: isoSeconds(job.createdAt),
    // Non-null even while queued (reference/github.md 2).
    started_at: isoSeconds(job.startedAt),
    completed_at: job.completedAt === null ? null : isoSeconds(job.completedAt),
    name: job.name,
    steps: stepsJson(job),
    check_run_url: `${repoApi}/check-runs/${job.id}`,
    labels: [...job.labels],
    // Null while no runner has the job; 0 and "" once it completed without ever getting one (OBS).
    runner_id: job.assignment?.runnerId ?? (neverAssigned ? 0 : null),
    runner_name: job.assignment?.runnerName ?? (neverAssigned ? '' : null),
    runner_group_id: job.assignment?.groupId ?? (neverAssigned ? 0 : null),
    runner_group_name: job.assignment?.groupName ?? (neverAssigned ? '' : null),
    workflow_name: job.run.workflowName,
  };
}

function stepsJson(job: JobRecord): Record<string, unknown>[] {
  if (!job.assignment) return [];
  const started = isoSeconds(job.startedAt);
  if (job.status !== 'completed' || job.completedAt === null) {
    return [{ name: 'Set up job', status: 'in_progress', conclusion: null, number: 1, started_at: started, completed_at: null }];
  }
  const completed = isoSeconds(job.completedAt);
  const step = (name: string, number: number, conclusion: string | null): Record<string, unknown> => ({
    name,
    status: 'completed',
    conclusion,
    number,
    started_at: started,
    completed_at: completed,
  });
  return [step('Set up job', 1, 'success'), step('Run workload', 2, job.conclusion), step('Complete job', 3, 'success')];
}

/** The user who pushed the commits the simulated workflows run for. */
export const SENDER: Account = { login: 'octocat', id: 1, nodeId: nodeId('User', 1), type: 'User' };

/**
 * A `workflow_job` delivery to the App: `installation` is `{id, node_id}` only, `organization` is
 * present for organization repositories, and so is `enterprise` (on GHES every org belongs to it).
 */
export function workflowJobPayload(
  urls: Urls,
  action: 'queued' | 'in_progress' | 'completed',
  job: JobRecord,
  installationId: number,
  createdAt: number,
): Record<string, unknown> {
  const owner = job.run.repo.owner;
  return {
    action,
    workflow_job: jobJson(urls, job),
    repository: repositoryJson(urls, job.run.repo, createdAt),
    ...(owner.type === 'Organization'
      ? { organization: organizationJson(urls, owner), enterprise: enterpriseJson(urls, createdAt) }
      : {}),
    sender: userJson(urls, SENDER),
    installation: { id: installationId, node_id: nodeId('IntegrationInstallation', installationId) },
  };
}
