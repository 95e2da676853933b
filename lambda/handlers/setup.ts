// Entry point of the setup function: the setup page behind the webhook's front door (the HTTP API,
// or the private REST API). Wires SSM and the GitHub server into lambda/setup/.
import { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { decodeEnvironment, PACING_ENVIRONMENT, SETUP_ENVIRONMENT } from '../../src/contracts/environment';
import { newSetupToken } from '../../src/contracts/setup-token';
import type { RunnerScopeName } from '../../src/runner-config-document';
import { systemClock } from '../common/clock';
import { createLogger } from '../common/logger';
import { SsmAppCredentials } from '../config/ssm-app-credentials';
import { GitHubAppRegistrar } from '../github/app-registrar';
import { Page } from '../setup/pages';
import { handleSetupRequest, SetupDeps, SetupRequest } from '../setup/setup-page';

const logger = createLogger();
let deps: SetupDeps | undefined;

function buildDeps(): SetupDeps {
  const env = decodeEnvironment({ ...SETUP_ENVIRONMENT, ...PACING_ENVIRONMENT }, process.env);
  return {
    store: new SsmAppCredentials(new SSMClient({}), env),
    registrar: new GitHubAppRegistrar({ baseUrl: env.githubApiUrl, retryBaseMs: env.githubRetryBaseMs }),
    settings: {
      githubUrl: env.githubUrl,
      webhookUrl: env.webhookUrl,
      setupUrl: env.setupUrl,
      scopes: env.runnerScopes as RunnerScopeName[],
      stackName: env.stackName,
    },
    clock: systemClock,
    random: newSetupToken,
    logger,
  };
}

/** HTTP API (payload 2.0) or, behind the private REST API, a v1 proxy event. */
export async function handler(event: APIGatewayProxyEventV2 | APIGatewayProxyEvent): Promise<APIGatewayProxyResult & { cookies?: string[] }> {
  deps ??= buildDeps();
  let page: Page;
  try {
    page = await handleSetupRequest(requestOf(event), deps);
  } catch (e) {
    // Never the request, nor the error's own fields: a request error carries its URL and body (a manifest code, a webhook secret).
    const { name, message, status } = e as Error & { status?: number };
    logger.error('setup failed', { error: { name, message: message.slice(0, 300), status } });
    page = {
      status: 502,
      html: '<!doctype html><title>Setup failed</title><h1>Setup failed</h1><p>The setup function could not reach SSM or '
      + 'the GitHub server; nothing was stored. Its log says why. Try again, or run npx cdk-ephemeral-runners status.</p>',
    };
  }
  const origin = (url: string) => new URL(url).origin;
  const isV2 = (event as APIGatewayProxyEventV2).version === '2.0';
  return {
    statusCode: page.status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // No script at all; forms go to this page or to the GitHub server only.
      'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${origin(deps.settings.setupUrl)} ${origin(deps.settings.githubUrl)}; frame-ancestors 'none'`,
      // The page's URL carries the token: no Referer leaves with it.
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      // The REST API (payload 1.0) takes the cookie as a header; the HTTP API (2.0) in its own field.
      ...(page.setCookie && !isV2 ? { 'set-cookie': page.setCookie } : {}),
    },
    ...(page.setCookie && isV2 ? { cookies: [page.setCookie] } : {}),
    body: page.html,
  };
}

function requestOf(event: APIGatewayProxyEventV2 | APIGatewayProxyEvent): SetupRequest {
  const v2 = event as APIGatewayProxyEventV2;
  const v1 = event as APIGatewayProxyEvent;
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value ?? '']));
  const cookieHeader = v2.cookies?.join('; ') ?? headers.cookie ?? '';
  const cookies = Object.fromEntries(cookieHeader.split(';').map((c) => c.trim()).filter(Boolean).map((c) => {
    const at = c.indexOf('=');
    return at < 0 ? [c, ''] : [c.slice(0, at), c.slice(at + 1)];
  }));
  const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  const isForm = (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return {
    method: v2.requestContext?.http?.method ?? v1.httpMethod ?? 'GET',
    query: { ...(event.queryStringParameters ?? {}) },
    form: isForm ? Object.fromEntries(new URLSearchParams(body)) : {},
    cookies,
  };
}
