// Each function signs with its own role's session, as in Lambda, although all handlers share one
// process.env: an invocation runs in an AsyncLocalStorage context naming its function, and process.env
// answers the AWS_* credential variables from it when the SDK's environment provider reads them.
import { AsyncLocalStorage } from 'async_hooks';
import { createHash } from 'crypto';
import type { CallerIdentity } from '../aws/function-url';

type SessionCredentials = CallerIdentity & { readonly accessKeyId: string };

/** The credential variables the SDK's environment provider reads, each with the session field it answers. */
const CREDENTIAL_VARIABLES = new Map<string | symbol, keyof SessionCredentials>([
  ['AWS_ACCESS_KEY_ID', 'accessKeyId'], ['AWS_SECRET_ACCESS_KEY', 'secretAccessKey'], ['AWS_SESSION_TOKEN', 'sessionToken'],
]);
const current = new AsyncLocalStorage<SessionCredentials>();
let installed = false;

/** Replaces process.env (once per process) by a view whose credential variables follow the current function. */
function installEnvironmentView(): void {
  if (installed) return;
  installed = true;
  const base = process.env;
  process.env = new Proxy(base, {
    get(target, key) {
      const session = current.getStore();
      const field = CREDENTIAL_VARIABLES.get(key);
      return session && field ? session[field] : Reflect.get(target, key);
    },
    // Writes go to the real environment object (which takes only plain string values).
    set(target, key, value) {
      (target as Record<string | symbol, unknown>)[key] = value;
      return true;
    },
  });
}

/** The execution-role sessions of one sandbox's functions. */
export class FunctionSessions {
  private readonly byFunction = new Map<string, SessionCredentials>();
  /** Invocations run so far, by function. */
  readonly invocations: Record<string, number> = {};

  constructor(private readonly accountId: string, private readonly seed: number) {
    installEnvironmentView();
  }

  /** Issues the session of a function's role (the session name is the function's name, as Lambda's is). */
  add(functionName: string, roleName: string): SessionCredentials {
    const digest = createHash('sha256').update(`${this.seed}/${functionName}/${roleName}`).digest('hex').toUpperCase();
    const session: SessionCredentials = {
      accessKeyId: `ASIA${digest.slice(0, 16)}`,
      secretAccessKey: digest.slice(16, 56),
      sessionToken: `sandbox-session-${digest.slice(0, 32)}`,
      accountId: this.accountId,
      roleName,
      roleId: `AROA${digest.slice(32, 49)}`,
      sessionName: functionName,
    };
    this.byFunction.set(functionName, session);
    return session;
  }

  /** Runs `fn` as the function: its AWS calls sign with the function's role session. */
  run<T>(functionName: string, fn: () => T): T {
    const session = this.byFunction.get(functionName);
    if (!session) throw new Error(`no session for the function ${functionName}`);
    this.invocations[functionName] = (this.invocations[functionName] ?? 0) + 1;
    return current.run(session, fn);
  }

  lookup(accessKeyId: string): CallerIdentity | undefined {
    return [...this.byFunction.values()].find((session) => session.accessKeyId === accessKeyId);
  }

  session(functionName: string): SessionCredentials | undefined {
    return this.byFunction.get(functionName);
  }
}

/** The access key id a SigV4 Authorization header names (`Credential=AKID/date/region/service/aws4_request`). */
export function accessKeyOf(authorization: string | undefined): string | undefined {
  return /Credential=([^/]+)\//.exec(authorization ?? '')?.[1];
}
