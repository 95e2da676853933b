// Each function signs with its own role's session, as in Lambda: its execution environments get the
// session's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
import { createHash } from 'crypto';
import type { CallerIdentity } from '../aws/function-url';

type SessionCredentials = CallerIdentity & { readonly accessKeyId: string };

/** The execution-role sessions of one sandbox's functions. */
export class FunctionSessions {
  private readonly byFunction = new Map<string, SessionCredentials>();

  constructor(private readonly accountId: string, private readonly seed: number) {}

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
