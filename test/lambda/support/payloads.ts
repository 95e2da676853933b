// workflow_job payloads shaped like GHES 3.19 sends them (github.md section 2), small enough to
// read in a test.

export interface WorkflowJobOptions {
  readonly action?: string;
  readonly jobId?: number;
  readonly runId?: number;
  readonly labels?: readonly string[];
  readonly owner?: string;
  readonly repo?: string;
  /** `null`: a user-owned repository, no `organization` key. */
  readonly org?: string | null;
  readonly runnerName?: string | null;
  readonly conclusion?: string | null;
}

export function workflowJobPayload(options: WorkflowJobOptions = {}): Record<string, unknown> {
  const action = options.action ?? 'queued';
  const owner = options.owner ?? 'octo-org';
  const repo = options.repo ?? 'example-workflow';
  const org = options.org === undefined ? owner : options.org;
  const jobId = options.jobId ?? 2832853555;
  const runId = options.runId ?? 940463255;
  const queued = action === 'queued' || action === 'waiting';
  const payload: Record<string, unknown> = {
    action,
    workflow_job: {
      id: jobId,
      run_id: runId,
      run_attempt: 1,
      run_url: `https://ghes.example.com/api/v3/repos/${owner}/${repo}/actions/runs/${runId}`,
      node_id: 'CR_kwDOABCD',
      head_sha: 'e3103f8eb03e1ad7f2331c5446b23c070fc54055',
      head_branch: 'main',
      workflow_name: 'CI',
      url: `https://ghes.example.com/api/v3/repos/${owner}/${repo}/actions/jobs/${jobId}`,
      html_url: `https://ghes.example.com/${owner}/${repo}/actions/runs/${runId}/job/${jobId}`,
      check_run_url: `https://ghes.example.com/api/v3/repos/${owner}/${repo}/check-runs/${jobId}`,
      name: 'build',
      labels: options.labels ?? ['self-hosted', 'linux', 'x64'],
      created_at: '2026-01-15T12:00:00Z',
      started_at: '2026-01-15T12:00:00Z',
      completed_at: action === 'completed' ? '2026-01-15T12:05:00Z' : null,
      status: action === 'waiting' ? 'waiting' : action,
      conclusion: options.conclusion === undefined ? (action === 'completed' ? 'success' : null) : options.conclusion,
      runner_id: queued ? null : 17,
      runner_name: options.runnerName === undefined ? (queued ? null : 'er-i-0abc') : options.runnerName,
      runner_group_id: queued ? null : 1,
      runner_group_name: queued ? null : 'Default',
      steps: [],
    },
    repository: { id: 1, name: repo, full_name: `${owner}/${repo}`, private: true, owner: { login: owner, id: 2, type: org ? 'Organization' : 'User' } },
    sender: { login: 'octocat', id: 3, type: 'User' },
    enterprise: { id: 1, slug: 'ghes' },
    installation: { id: 5, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNQ==' },
  };
  if (org) payload.organization = { login: org, id: 4 };
  return payload;
}
