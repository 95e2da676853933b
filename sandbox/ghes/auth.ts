// GitHub App authentication (reference/github.md 3): RS256 JWTs for the /app routes, judged on the clock clients mint them with (see
// sim-time.ts), and installation access tokens for the rest, expiring in simulated time. And personal access tokens (classic) with
// their scopes, the only credential the enterprise runner endpoints take: "This endpoint does not work with GitHub App user access
// tokens, GitHub App installation access tokens, or fine-grained personal access tokens"
// (https://docs.github.com/en/enterprise-server@3.19/rest/actions/self-hosted-runners#list-self-hosted-runners-for-an-enterprise).
import { createPublicKey, generateKeyPairSync, KeyObject, verify } from 'crypto';
import { Installation } from './directory';
import { GhesApiError } from './errors';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

/** GitHub's exact messages; Octokit matches the three claim messages to repair clock skew. */
const MESSAGES = {
  requiresAuthentication: 'Requires authentication',
  badCredentials: 'Bad credentials',
  jwtNotDecoded: 'A JSON web token could not be decoded',
  expTooFar: "'Expiration time' claim ('exp') is too far in the future",
  expInvalid: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
  iatInvalid: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
  notAccessibleByIntegration: 'Resource not accessible by integration',
  notAccessibleByPat: 'Resource not accessible by personal access token',
} as const;

/** JWTs may be valid for at most 10 minutes. */
const MAX_JWT_LIFETIME_S = 600;
/** How far in the future `iat` may be, for clients whose clock runs slightly ahead. */
const IAT_LEEWAY_S = 60;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Who made a request: the App (JWT), one of its installations (token), a user by a personal access token (classic) with its
 * scopes, or anyone (a route without authentication).
 */
export type Caller =
  | { readonly kind: 'app' }
  | { readonly kind: 'installation'; readonly installationId: number }
  | { readonly kind: 'user'; readonly login: string; readonly scopes: readonly string[] }
  | { readonly kind: 'anyone' };
/** `user`: a personal access token (classic), as the enterprise endpoints take. */
export type CredentialNeed = 'jwt' | 'installation' | 'user' | 'none';

export class AppAuth {
  /** PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), the format GitHub hands out; undefined while the instance has no App. */
  privateKeyPem?: string;
  private publicKey?: KeyObject;
  /** Issued installation tokens; `expiresAt` is simulated epoch ms. */
  private readonly tokens = new Map<string, { readonly installationId: number; readonly expiresAt: number }>();
  /** Personal access tokens (classic): they do not expire unless made to. */
  private readonly personalTokens = new Map<string, { readonly login: string; readonly scopes: readonly string[] }>();

  /** Uses the given private key (PKCS#1 or PKCS#8), or generates one; `withApp` false: no App (and no key) until `createKey`. */
  constructor(
    private readonly appId: number,
    privateKeyPem: string | undefined,
    private readonly time: SimTime,
    private readonly rng: SeededRandom,
    private readonly tokenTtlMs: number,
    withApp = true,
  ) {
    if (withApp) this.useKey(privateKeyPem ?? generateKey());
  }

  /** The App's key from now on: a manifest created the App. */
  useKey(privateKeyPem: string): void {
    this.privateKeyPem = privateKeyPem;
    this.publicKey = createPublicKey(privateKeyPem);
  }

  /** Checks the Authorization header for the credential a route needs; throws GitHub's error otherwise. */
  authenticate(authorization: string | undefined, needs: CredentialNeed): Caller {
    if (needs === 'none') return { kind: 'anyone' };
    const match = /^(\S+)\s+(\S+)\s*$/.exec(authorization ?? '');
    if (!match) throw new GhesApiError(401, MESSAGES.requiresAuthentication);
    const scheme = match[1].toLowerCase();
    const credential = match[2];
    // A JWT must be sent with Bearer; `token <jwt>` is looked up as a token and fails (reference 3).
    if (scheme === 'bearer' && credential.split('.').length === 3) {
      this.verifyJwt(credential);
      if (needs !== 'jwt') throw new GhesApiError(403, MESSAGES.notAccessibleByIntegration);
      return { kind: 'app' };
    }
    // An installation token on a JWT-only route reads to GitHub as a JWT it cannot decode.
    if (needs === 'jwt') throw new GhesApiError(401, MESSAGES.jwtNotDecoded);
    const personal = (scheme === 'bearer' || scheme === 'token') ? this.personalTokens.get(credential) : undefined;
    if (personal) {
      // Not modelled: a classic token on organization and repository routes (the control plane uses the App's there).
      if (needs !== 'user') throw new GhesApiError(403, MESSAGES.notAccessibleByPat);
      return { kind: 'user', login: personal.login, scopes: personal.scopes };
    }
    const token = this.tokens.get(credential);
    const valid = (scheme === 'bearer' || scheme === 'token') && token !== undefined && this.time.now() < token.expiresAt;
    if (!valid) throw new GhesApiError(401, MESSAGES.badCredentials);
    // The enterprise endpoints refuse installation tokens (the OpenAPI description: enabledForGitHubApps false).
    if (needs === 'user') throw new GhesApiError(403, MESSAGES.notAccessibleByIntegration);
    return { kind: 'installation', installationId: token.installationId };
  }

  /** Mints a personal access token (classic), `ghp_` + 36 base62, for `login` with `scopes` (as the token's settings page lists them). */
  issuePersonalToken(login: string, scopes: readonly string[]): string {
    const random = Array.from({ length: 36 }, () => BASE62[this.rng.integer(0, BASE62.length - 1)]).join('');
    const token = `ghp_${random}`;
    this.personalTokens.set(token, { login, scopes: [...scopes] });
    return token;
  }

  /** The user deletes the token: it answers 401 from then on. */
  revokePersonalToken(token: string): void {
    this.personalTokens.delete(token);
  }

  /** Mints an installation access token (`ghs_` + 36 base62) valid for `tokenTtlMs` of simulated time. */
  /** GitHub revokes an installation's tokens when the App is uninstalled. */
  revokeTokens(installationId: number): void {
    for (const [token, issued] of this.tokens) if (issued.installationId === installationId) this.tokens.delete(token);
  }

  issueToken(installation: Installation): { token: string; expiresAt: number } {
    const random = Array.from({ length: 36 }, () => BASE62[this.rng.integer(0, BASE62.length - 1)]).join('');
    const issued = { token: `ghs_${random}`, installationId: installation.id, expiresAt: this.time.now() + this.tokenTtlMs };
    this.tokens.set(issued.token, issued);
    return issued;
  }

  private verifyJwt(jwt: string): void {
    const claims = this.signedClaims(jwt);
    if (!claims) throw new GhesApiError(401, MESSAGES.jwtNotDecoded);
    const now = this.time.jwtNow() / 1000;
    const { exp, iat } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= now) throw new GhesApiError(401, MESSAGES.expInvalid);
    if (exp > now + MAX_JWT_LIFETIME_S) throw new GhesApiError(401, MESSAGES.expTooFar);
    if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now + IAT_LEEWAY_S) throw new GhesApiError(401, MESSAGES.iatInvalid);
  }

  /** A JWT's claims if the App signed it. GitHub finds the key by `iss` (the App id, a number or a string): an unknown issuer,
   * a wrong key or a malformed token reads as undecodable. */
  private signedClaims(jwt: string): Record<string, unknown> | undefined {
    const [headerPart, payloadPart, signature] = jwt.split('.');
    const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    try {
      const [header, claims] = [decode(headerPart), decode(payloadPart)];
      if (!this.publicKey) return undefined;
      const signed = verify('RSA-SHA256', Buffer.from(`${headerPart}.${payloadPart}`), this.publicKey, Buffer.from(signature, 'base64url'));
      return header.alg === 'RS256' && (claims.iss === this.appId || claims.iss === String(this.appId)) && signed ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A 2048-bit RSA key in PKCS#1 PEM, as GitHub generates for an App. */
export function generateKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}
