// Routes authenticated with an installation token: self-hosted runners (JIT registration, list, get,
// delete) at repository and organization scope, and workflow jobs (get, re-run).
import { NotFoundError } from './errors';
import { Scope } from './model';
import { jobJson, runnerJson } from './payloads';
import {
  ApiRequest, ApiRoute, HttpMethod, idParam, invalid, orgInScope, pageLinks, pageParams, repoInScope, SimContext,
} from './routes';
import { DEFAULT_RUNNER_GROUP_ID } from './runners';

interface ScopeRoutes {
  /** `/repos/{owner}/{repo}` or `/orgs/{org}` */
  readonly prefix: string;
  /** Repository runners need Administration; organization runners "Self-hosted runners". */
  readonly permission: string;
  readonly scope: (request: ApiRequest) => Scope;
}

export function actionsRoutes(ctx: SimContext): ApiRoute[] {
  const repoScope: ScopeRoutes = {
    prefix: '/repos/{owner}/{repo}',
    permission: 'administration',
    scope: (request) => ({ kind: 'repo', repo: repoInScope(ctx, request) }),
  };
  const orgScope: ScopeRoutes = {
    prefix: '/orgs/{org}',
    permission: 'organization_self_hosted_runners',
    scope: (request) => ({ kind: 'org', org: orgInScope(ctx, request).account }),
  };
  return [
    ...runnerRoutes(ctx, repoScope),
    ...runnerRoutes(ctx, orgScope),
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/actions/jobs/{job_id}',
      auth: 'installation',
      permission: 'actions',
      handle: (request) => {
        const job = ctx.jobs.find(repoInScope(ctx, request), idParam(request, 'job_id'));
        return { status: 200, body: jobJson(ctx.urls(), job) };
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/actions/jobs/{job_id}/rerun',
      auth: 'installation',
      permission: 'actions',
      handle: (request) => {
        ctx.jobs.rerun(repoInScope(ctx, request), idParam(request, 'job_id'));
        return { status: 201, body: {} };
      },
    },
  ];
}

function runnerRoutes(ctx: SimContext, s: ScopeRoutes): ApiRoute[] {
  const route = (method: HttpMethod, suffix: string, handle: ApiRoute['handle']): ApiRoute => ({
    method,
    template: `${s.prefix}/actions/runners${suffix}`,
    auth: 'installation',
    permission: s.permission,
    handle,
  });
  return [
    route('POST', '/generate-jitconfig', (request) => {
      const scope = s.scope(request);
      const body = jitRequest(request.body);
      // Repositories have only the Default group; this simulated organization has no other.
      if (body.groupId !== DEFAULT_RUNNER_GROUP_ID) throw new NotFoundError();
      const runner = ctx.runners.register(scope, body);
      return {
        status: 201,
        body: { runner: runnerJson(runner, ctx.runners.status(runner)), encoded_jit_config: ctx.encodeJitConfig(runner) },
      };
    }),
    route('GET', '', (request) => {
      const scope = s.scope(request);
      const { perPage, page } = pageParams(request.query);
      const all = ctx.runners.list(scope, request.query.get('name') ?? undefined);
      const runners = all.slice((page - 1) * perPage, page * perPage);
      const link = pageLinks(request.url, request.query, page, perPage, all.length);
      return {
        status: 200,
        body: { total_count: all.length, runners: runners.map((r) => runnerJson(r, ctx.runners.status(r))) },
        headers: link ? { link } : undefined,
      };
    }),
    route('GET', '/{runner_id}', (request) => {
      const runner = ctx.runners.find(s.scope(request), idParam(request, 'runner_id'));
      return { status: 200, body: runnerJson(runner, ctx.runners.status(runner)) };
    }),
    route('DELETE', '/{runner_id}', (request) => {
      ctx.runners.deleteViaApi(s.scope(request), idParam(request, 'runner_id'));
      return { status: 204 };
    }),
  ];
}

/** The generate-jitconfig body, checked as GitHub's schema does (reference/github.md 4). */
function jitRequest(body: Record<string, unknown>): { name: string; labels: string[]; groupId: number; workFolder: string } {
  const { name, labels, runner_group_id: groupId, work_folder: workFolder } = body;
  for (const field of ['name', 'runner_group_id', 'labels']) {
    if (body[field] === undefined) throw invalid(`"${field}" wasn't supplied.`);
  }
  if (typeof name !== 'string' || name.trim() === '') throw invalid('"name" must be a non-empty string.');
  if (typeof groupId !== 'number' || !Number.isInteger(groupId)) throw invalid('"runner_group_id" must be an integer.');
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string' && l.trim() !== '')) {
    throw invalid('"labels" must be an array of non-empty strings.');
  }
  if (labels.length < 1 || labels.length > 100) throw invalid('"labels" must have between 1 and 100 items.');
  if (workFolder !== undefined && typeof workFolder !== 'string') throw invalid('"work_folder" must be a string.');
  return { name, labels: labels as string[], groupId, workFolder: (workFolder as string | undefined) ?? '_work' };
}
