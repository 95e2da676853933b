// GitHub App authentication: RS256 JWTs for the /app routes, installation access tokens for the rest
// (reference/github.md 3). JWT claims are judged on the clock the clients mint them with (plus the
// injected skew; see sim-time.ts); installation tokens expire in simulated time.
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, verify } from 'crypto';
import { Installation, Repo } from './directory';
import { ForbiddenError, UnauthorizedError, ValidationError } from './errors';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

/** GitHub's exact messages; Octokit matches the three claim messages to repair clock skew. */
export const AUTH_MESSAGES = {
  requiresAuthentication: 'Requires authentication',
  badCredentials: 'Bad credentials',
  jwtNotDecoded: 'A JSON web token could not be decoded',
  expTooFar: "'Expiration time' claim ('exp') is too far in the future",
  expInvalid:
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
  iatInvalid: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
  notAccessibleByIntegration: 'Resource not accessible by integration',
} as const;

/** JWTs may be valid for at most 10 minutes. */
const MAX_JWT_LIFETIME_S = 600;

export interface AppKeys {
  /** PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), the format GitHub hands out. */
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

/** Uses the given private key, or generates a 2048-bit RSA key pair as GitHub does for an App. */
export function appKeys(privateKeyPem?: string): AppKeys {
  if (privateKeyPem) {
    return { privateKeyPem, publicKey: createPublicKey(createPrivateKey(privateKeyPem)) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
}

export interface InstallationToken {
  readonly token: string;
  readonly installationId: number;
  /** Simulated epoch ms. */
  readonly expiresAt: number;
  /** Repository ids the token is limited to; undefined when it has all of the installation's. */
  readonly repoIds?: ReadonlySet<number>;
  readonly permissions: Readonly<Record<string, string>>;
}

export type Caller = { readonly kind: 'app' } | { readonly kind: 'installation'; readonly token: InstallationToken };
/** `either`: a JWT or an installation token (e.g. GET /rate_limit). */
export type CredentialNeed = 'jwt' | 'installation' | 'either';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class AppAuth {
  /** Whether a token may act on a repository (its installation covers it and the token is not narrowed away). */
  static covers(token: InstallationToken, installation: Installation | undefined, repo: Repo): boolean {
    return installation?.id === token.installationId && installation.repos.includes(repo) && (!token.repoIds || token.repoIds.has(repo.id));
  }

  private readonly tokens = new Map<string, InstallationToken>();

  constructor(
    private readonly app: { readonly id: number; readonly clientId: string; readonly permissions: Readonly<Record<string, string>> },
    private readonly keys: AppKeys,
    private readonly time: SimTime,
    private readonly rng: SeededRandom,
    private readonly tokenTtlMs: number,
    /** How far in the future `iat` may be, for clients whose clock runs slightly ahead. */
    private readonly iatLeewaySeconds = 60,
  ) {}

  /** Checks the Authorization header for the credential a route needs; throws GitHub's error otherwise. */
  authenticate(authorization: string | undefined, needs: CredentialNeed): Caller {
    const match = /^(\S+)\s+(\S+)\s*$/.exec(authorization ?? '');
    if (!match) throw new UnauthorizedError(AUTH_MESSAGES.requiresAuthentication);
    const scheme = match[1].toLowerCase();
    const credential = match[2];
    // A JWT must be sent with Bearer; `token <jwt>` is looked up as a token and fails (reference 3).
    const isJwt = scheme === 'bearer' && credential.split('.').length === 3;
    if (isJwt) {
      this.verifyJwt(credential);
      if (needs === 'installation') throw new ForbiddenError(AUTH_MESSAGES.notAccessibleByIntegration);
      return { kind: 'app' };
    }
    // An installation token on a JWT-only route reads to GitHub as a JWT it cannot decode.
    if (needs === 'jwt') throw new UnauthorizedError(AUTH_MESSAGES.jwtNotDecoded);
    if (scheme !== 'bearer' && scheme !== 'token') throw new UnauthorizedError(AUTH_MESSAGES.badCredentials);
    return { kind: 'installation', token: this.lookUpToken(credential) };
  }

  /** Mints an installation access token valid for `tokenTtlMs` of simulated time. */
  issueToken(installation: Installation, body: Record<string, unknown>): InstallationToken {
    const repoIds = this.requestedRepos(installation, body);
    const permissions = this.requestedPermissions(body);
    let token = 'ghs_';
    for (let i = 0; i < 36; i++) token += BASE62[this.rng.integer(0, BASE62.length - 1)];
    const issued: InstallationToken = {
      token,
      installationId: installation.id,
      expiresAt: this.time.now() + this.tokenTtlMs,
      repoIds,
      permissions,
    };
    this.tokens.set(token, issued);
    return issued;
  }

  private lookUpToken(value: string): InstallationToken {
    const token = this.tokens.get(value);
    if (!token) throw new UnauthorizedError(AUTH_MESSAGES.badCredentials);
    if (this.time.now() >= token.expiresAt) {
      this.tokens.delete(value);
      throw new UnauthorizedError(AUTH_MESSAGES.badCredentials);
    }
    return token;
  }

  private verifyJwt(jwt: string): void {
    const [headerPart, payloadPart, signaturePart] = jwt.split('.');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new UnauthorizedError(AUTH_MESSAGES.jwtNotDecoded);
    }
    const signed = this.signatureMatches(`${headerPart}.${payloadPart}`, signaturePart);
    if (header.alg !== 'RS256' || !signed || typeof claims !== 'object' || claims === null || !this.isOwnIssuer(claims.iss)) {
      // GitHub finds the App's key by `iss`; an unknown issuer or a wrong key reads as undecodable.
      throw new UnauthorizedError(AUTH_MESSAGES.jwtNotDecoded);
    }
    const now = this.time.jwtNow() / 1000;
    const { exp, iat } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= now) {
      throw new UnauthorizedError(AUTH_MESSAGES.expInvalid);
    }
    if (exp > now + MAX_JWT_LIFETIME_S) throw new UnauthorizedError(AUTH_MESSAGES.expTooFar);
    if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now + this.iatLeewaySeconds) {
      throw new UnauthorizedError(AUTH_MESSAGES.iatInvalid);
    }
  }

  private signatureMatches(signingInput: string, signature: string): boolean {
    try {
      return verify('RSA-SHA256', Buffer.from(signingInput), this.keys.publicKey, Buffer.from(signature, 'base64url'));
    } catch {
      return false;
    }
  }

  /** `iss` is the App id as a number or string, or (GHES ≥ 3.18) the client id. */
  private isOwnIssuer(iss: unknown): boolean {
    return iss === this.app.id || iss === String(this.app.id) || iss === this.app.clientId;
  }

  private requestedRepos(installation: Installation, body: Record<string, unknown>): ReadonlySet<number> | undefined {
    const names = body.repositories;
    const ids = body.repository_ids;
    if (names === undefined && ids === undefined) return undefined;
    if ((names !== undefined && !isArrayOf(names, 'string')) || (ids !== undefined && !isArrayOf(ids, 'number'))) {
      throw new ValidationError('Invalid request.\n\n"repositories" and "repository_ids" must be arrays.');
    }
    const wanted = [...((names as string[] | undefined) ?? []), ...((ids as number[] | undefined) ?? [])];
    if (wanted.length > 500) throw new ValidationError('The maximum number of repositories is 500.');
    const repoIds = new Set<number>();
    for (const w of wanted) {
      const repo = installation.repos.find((r) => (typeof w === 'number' ? r.id === w : r.name.toLowerCase() === w.toLowerCase()));
      if (!repo) {
        throw new ValidationError('There is at least one repository that does not exist or is not accessible to the parent installation.');
      }
      repoIds.add(repo.id);
    }
    return repoIds;
  }

  private requestedPermissions(body: Record<string, unknown>): Readonly<Record<string, string>> {
    const requested = body.permissions;
    if (requested === undefined) return this.app.permissions;
    if (typeof requested !== 'object' || requested === null) throw new ValidationError('Invalid request.\n\n"permissions" must be an object.');
    const rank = (level: string | undefined): number => ['read', 'write', 'admin'].indexOf(level ?? '') + 1;
    for (const [name, level] of Object.entries(requested as Record<string, unknown>)) {
      if (typeof level !== 'string' || rank(level) === 0 || rank(level) > rank(this.app.permissions[name])) {
        throw new ValidationError('The permissions requested are not granted to this installation.');
      }
    }
    return requested as Record<string, string>;
  }
}

function isArrayOf(value: unknown, type: 'string' | 'number'): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === type);
}
