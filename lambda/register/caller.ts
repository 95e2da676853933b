// Who calls the register endpoint: the IAM principal that signed the request, as a Function URL
// (payload 2.0: requestContext.authorizer.iam) or an IAM-authorized REST API (v1:
// requestContext.identity) names it. Only an instance-profile session of the runner role gets in:
// EC2 names that session after the instance (reference/aws.md 4.4). The body (signed with the
// request) is `{}` for an ask, or a problem report the bootstrap sends instead.
import { BadRegisterRequestError, CallerNotAllowedError } from './errors';

/** What the endpoint says about the signer; AWS fills these in after checking the signature. */
export interface CallerClaims {
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` for a role session. */
  readonly userArn?: string;
  /** `AROA…:SESSION`: `callerId` of payload 2.0, `caller` of REST v1. */
  readonly callerId?: string;
}

export interface RegisterRequest {
  readonly method?: string;
  /** Absent when the endpoint is not IAM-authorized. */
  readonly caller?: CallerClaims;
  /** The account that owns the endpoint (`requestContext.accountId`). */
  readonly endpointAccountId?: string;
  /** The body as text (decoded when the event carries it as base64). */
  readonly body?: string;
}

/**
 * What a booting instance may report instead of asking for a config: its image holds no runner
 * (no executable `run.sh` where the bootstrap looks), so no config could ever run.
 */
export type BootProblem = 'runner-missing';

const BOOT_PROBLEMS: readonly BootProblem[] = ['runner-missing'];

/** Far more than `{"problem":"runner-missing"}`: a longer body is nothing the bootstrap sends. */
const MAX_BODY_CHARS = 1024;

/** EC2 instance ids: `i-` and 8 (older) or 17 hex digits. */
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const ASSUMED_ROLE_ARN = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;

/** Reads either event shape; anything missing or of the wrong type is left out. */
export function fromLambdaEvent(event: unknown): RegisterRequest {
  const e = record(event);
  const context = record(e.requestContext);
  const iam = record(record(context.authorizer).iam);
  const identity = record(context.identity);
  // Payload 2.0 names the caller under authorizer.iam; REST v1 under identity. An event carries one.
  const v2 = string(iam.userArn) !== undefined;
  const caller: CallerClaims = v2
    ? { userArn: string(iam.userArn), callerId: string(iam.callerId) }
    : { userArn: string(identity.userArn), callerId: string(identity.caller) };
  const body = string(e.body);
  return {
    method: string(record(context.http).method) ?? string(e.httpMethod),
    caller: caller.userArn === undefined ? undefined : caller,
    endpointAccountId: string(context.accountId),
    body: body !== undefined && e.isBase64Encoded === true ? Buffer.from(body, 'base64').toString('utf8') : body,
  };
}

/**
 * The problem the body reports; undefined for an ask for a config (no body, or `{}`). Anything
 * else throws {@link BadRegisterRequestError} naming what the endpoint accepts.
 */
export function problemOf(body: string | undefined): BootProblem | undefined {
  if (body === undefined || body.trim() === '') return undefined;
  const accepted = `the body must be {} (an ask for a runner config) or {"problem":"${BOOT_PROBLEMS.join('|')}"}`;
  if (body.length > MAX_BODY_CHARS) throw new BadRegisterRequestError(`a body of ${body.length} characters: ${accepted}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRegisterRequestError(`the body is not JSON: ${accepted}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadRegisterRequestError(`the body is not a JSON object: ${accepted}`);
  const fields = Object.entries(parsed);
  if (fields.length === 0) return undefined;
  const problem = BOOT_PROBLEMS.find((p) => fields.length === 1 && fields[0][0] === 'problem' && fields[0][1] === p);
  if (problem === undefined) throw new BadRegisterRequestError(`the body is no ask and no problem report the endpoint knows: ${accepted}`);
  return problem;
}

/** A caller let in: the instance, and the runner role it signed as. */
export interface RunnerCaller {
  readonly instanceId: string;
  readonly roleName: string;
}

/**
 * The instance id of the caller, if it is a session of one of `runnerRoleNames` (the shared runner
 * role, and the roles of configs that have their own) named after an instance, in the endpoint's
 * own account. Throws {@link CallerNotAllowedError} saying why not.
 */
export function instanceOfCaller(request: RegisterRequest, runnerRoleNames: readonly string[]): RunnerCaller {
  const arn = request.caller?.userArn;
  if (arn === undefined) {
    throw new CallerNotAllowedError('the request names no IAM caller: the register endpoint must use AWS_IAM auth (Function URL auth type AWS_IAM, or an IAM-authorized API route)');
  }
  const match = ASSUMED_ROLE_ARN.exec(arn);
  if (!match) {
    throw new CallerNotAllowedError(`caller ${arn} is not an assumed-role session: only runner instances, signing with their instance role, may register`, arn);
  }
  const [, account, role, session] = match;
  if (request.endpointAccountId !== undefined && account !== request.endpointAccountId) {
    throw new CallerNotAllowedError(`caller ${arn} is from account ${account}, not ${request.endpointAccountId}: runner instances run in the endpoint's account`, arn);
  }
  if (!runnerRoleNames.includes(role)) {
    throw new CallerNotAllowedError(`caller ${arn} is a session of role ${role}, not of a runner role (${runnerRoleNames.join(', ')}): only runner instances may register`, arn);
  }
  if (!INSTANCE_ID.test(session)) {
    throw new CallerNotAllowedError(`caller ${arn} has session name ${session}, which is not an instance id: only the instance profile's own session may register`, arn);
  }
  // The caller id repeats the session name; if the two disagree, neither can be trusted.
  const callerId = request.caller?.callerId;
  if (callerId !== undefined && !callerId.endsWith(`:${session}`)) {
    throw new CallerNotAllowedError(`caller ${arn} comes with caller id ${callerId} of another session`, arn);
  }
  return { instanceId: session, roleName: role };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function string(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
