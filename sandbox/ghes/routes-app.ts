// Routes authenticated as the App (JWT): the App itself, installation lookup, installation access
// tokens, the webhook deliveries API; and GET /rate_limit.
import { deliveryItemJson, deliveryJson } from './deliveries';
import { NotFoundError } from './errors';
import { appJson, installationJson, repositoryJson } from './payloads';
import { ApiRoute, idParam, SimContext } from './routes';
import { isoSeconds } from './sim-time';

export function appRoutes(ctx: SimContext): ApiRoute[] {
  return [
    {
      method: 'GET',
      template: '/app',
      auth: 'jwt',
      handle: () => ({
        status: 200,
        body: appJson(ctx.urls(), ctx.app, ctx.directory.org, ctx.directory.installations().length),
      }),
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/installation',
      auth: 'jwt',
      handle: ({ params }) => {
        const repo = ctx.directory.repo(params.owner, params.repo);
        const installation = repo && ctx.directory.installationForRepo(repo);
        if (!installation) throw new NotFoundError();
        return { status: 200, body: installationJson(ctx.urls(), ctx.app, installation) };
      },
    },
    {
      method: 'GET',
      template: '/orgs/{org}/installation',
      auth: 'jwt',
      handle: ({ params }) => {
        const installation = ctx.directory.isOrg(params.org) ? ctx.directory.installationForAccount(params.org) : undefined;
        if (!installation) throw new NotFoundError();
        return { status: 200, body: installationJson(ctx.urls(), ctx.app, installation) };
      },
    },
    {
      method: 'POST',
      template: '/app/installations/{installation_id}/access_tokens',
      auth: 'jwt',
      handle: (request) => {
        const installation = ctx.directory.installation(idParam(request, 'installation_id'));
        if (!installation) throw new NotFoundError();
        const token = ctx.auth.issueToken(installation, request.body);
        const urls = ctx.urls();
        const scoped = token.repoIds;
        return {
          status: 201,
          body: {
            token: token.token,
            expires_at: isoSeconds(token.expiresAt),
            permissions: token.permissions,
            repository_selection: scoped ? 'selected' : installation.selection,
            ...(scoped
              ? { repositories: installation.repos.filter((r) => scoped.has(r.id)).map((r) => repositoryJson(urls, r, ctx.app.createdAt)) }
              : {}),
          },
        };
      },
    },
    {
      method: 'GET',
      template: '/app/hook/deliveries',
      auth: 'jwt',
      handle: (request) => {
        const query = request.query;
        const page = ctx.deliveries.page({
          perPage: query.get('per_page') ?? undefined,
          cursor: query.get('cursor') ?? undefined,
          status: query.get('status') ?? undefined,
        });
        const headers: Record<string, string> = {};
        if (page.nextCursor) {
          const next = new URLSearchParams(query);
          next.set('per_page', query.get('per_page') ?? '30');
          next.set('cursor', page.nextCursor);
          headers.link = `<${request.url}?${next.toString()}>; rel="next"`;
        }
        return { status: 200, body: page.items.map(deliveryItemJson), headers };
      },
    },
    {
      method: 'GET',
      template: '/app/hook/deliveries/{delivery_id}',
      auth: 'jwt',
      handle: (request) => ({ status: 200, body: deliveryJson(ctx.deliveries.get(idParam(request, 'delivery_id'))) }),
    },
    {
      method: 'POST',
      template: '/app/hook/deliveries/{delivery_id}/attempts',
      auth: 'jwt',
      handle: (request) => {
        ctx.webhooks.redeliver(ctx.deliveries.get(idParam(request, 'delivery_id')));
        return { status: 202, body: {} };
      },
    },
    {
      method: 'GET',
      template: '/rate_limit',
      auth: 'either',
      rateLimited: false,
      handle: ({ caller }) => {
        // GHES with rate limiting off (its default) answers 404 here (reference/github.md 7).
        if (!ctx.rateLimits.enabled) throw new NotFoundError('Rate limiting is not enabled.');
        const core = ctx.rateLimits.status(caller.kind === 'installation' ? `installation:${caller.token.installationId}` : 'app');
        const reset = Math.ceil(ctx.time.toClientEpochMs(ctx.time.now() + 60_000) / 1000);
        const other = (limit: number): Record<string, number> => ({ limit, remaining: limit, used: 0, reset });
        return {
          status: 200,
          body: {
            resources: {
              core,
              search: other(30),
              graphql: other(5000),
              integration_manifest: other(5000),
              actions_runner_registration: other(10_000),
            },
            rate: core,
          },
        };
      },
    },
  ];
}
