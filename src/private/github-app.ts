// The GitHub server and App the functions work for: where its API is, and the two SecureString
// parameters (the App's private key, the webhook secret) the functions may read.
import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { grantDescribeOwnStack } from './custom-resource';

/** An enterprise's slug: letters, digits and inner hyphens. */
const ENTERPRISE_SLUG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$/;

/** An SSM parameter's (or path's) ARN from its name. */
export function parameterArn(scope: Construct, name: string): string {
  return Arn.format({
    service: 'ssm',
    resource: 'parameter',
    // A name starting with '/' already carries the separator.
    resourceName: name.replace(/^\//, ''),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  }, Stack.of(scope));
}

/** What {@link GitHubApp} is built from. */
export interface GitHubAppProps {
  /** The server's base URL, e.g. `https://ghes.example.com`. */
  readonly url: string;
  /** @default - the setup page creates the App and stores its id in `appIdParameterName` */
  readonly appId?: string;
  readonly appIdParameterName: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
  readonly setupTokenParameterName: string;
  /** The key both SecureStrings are encrypted with. @default - the AWS managed key aws/ssm */
  readonly secretsEncryptionKey?: kms.IKey;
  /** The enterprise's slug, for enterprise-scoped configs. @default - none */
  readonly enterprise?: string;
  readonly enterpriseTokenParameterName: string;
}

/** The GitHub server and App, and the grants to read the App's secrets. */
export class GitHubApp {
  /** Hostname of the server (without a port): job ids are unique per server, so it is part of every job's key. */
  readonly host: string;
  /** The REST API base: `https://HOST/api/v3`, or `https://api.github.com` for github.com. */
  readonly apiUrl: string;
  /** The server's web URL, e.g. `https://ghes.example.com`. */
  readonly url: string;
  /** The TCP port the server answers on. */
  readonly port: number;
  /** The App id the props give; undefined when the setup page creates the App. */
  readonly appId?: string;
  /** Where the setup page stores the App id (read by the functions when the props give none). */
  readonly appIdParameterName: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
  /** The SHA-256 of the setup token. */
  readonly setupTokenParameterName: string;
  /** The enterprise enterprise-scoped configs register at, if any. */
  readonly enterprise?: string;
  /** The enterprise credential's SecureString (read only when `enterprise` is set). */
  readonly enterpriseTokenParameterName: string;
  /** The key of the SecureStrings, if not aws/ssm. */
  readonly secretsEncryptionKey?: kms.IKey;
  /** What is wrong with the URL, if anything. */
  readonly urlProblem?: string;

  constructor(private readonly scope: Construct, props: GitHubAppProps) {
    const parsed = parseGitHubUrl(props.url);
    this.host = parsed.host;
    this.apiUrl = parsed.apiUrl;
    this.port = parsed.port;
    this.urlProblem = parsed.error;
    this.url = props.url.replace(/\/$/, '');
    this.appId = props.appId;
    this.appIdParameterName = props.appIdParameterName;
    this.privateKeyParameterName = props.privateKeyParameterName;
    this.webhookSecretParameterName = props.webhookSecretParameterName;
    this.setupTokenParameterName = props.setupTokenParameterName;
    this.secretsEncryptionKey = props.secretsEncryptionKey;
    this.enterprise = props.enterprise;
    this.enterpriseTokenParameterName = props.enterpriseTokenParameterName;
  }

  /** Every problem of the URL and the App id, for the construct's validation. */
  problems(): string[] {
    const problems = this.urlProblem ? [this.urlProblem] : [];
    if (this.enterprise !== undefined && !Token.isUnresolved(this.enterprise) && !ENTERPRISE_SLUG.test(this.enterprise)) {
      problems.push(`github.enterprise '${this.enterprise}' is not an enterprise slug; use the slug of the enterprise's URL `
        + '(https://<server>/enterprises/<slug>): letters, digits and inner hyphens, e.g. \'octo-enterprise\'.');
    }
    if (this.appId !== undefined && !Token.isUnresolved(this.appId) && !/^[1-9][0-9]{0,11}$/.test(this.appId)) {
      problems.push(`github.appId '${this.appId}' is not a GitHub App id; use the numeric App ID from the App's settings page, e.g. '12'.`);
    }
    return problems;
  }

  /**
   * Read the App's private key, its id when the setup page stores it, and the enterprise credential
   * when there is an enterprise (the four functions that call GitHub; never the webhook or the setup page).
   */
  grantReadAppCredentials(grantee: iam.IGrantable): void {
    this.grantRead(grantee, this.privateKeyParameterName);
    if (this.appId === undefined) this.grantRead(grantee, this.appIdParameterName, false);
    if (this.enterprise !== undefined) this.grantRead(grantee, this.enterpriseTokenParameterName);
  }

  /**
   * What the setup page does: see whether credentials exist, write them without overwriting, undo
   * its own writes, and end the token.
   */
  grantSetup(grantee: iam.IGrantable): void {
    const credentials = [this.appIdParameterName, this.privateKeyParameterName, this.webhookSecretParameterName];
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter', 'ssm:DeleteParameter'],
      resources: [parameterArn(this.scope, this.setupTokenParameterName)],
    }));
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameters', 'ssm:PutParameter', 'ssm:DeleteParameters'],
      resources: credentials.map((name) => parameterArn(this.scope, name)),
    }));
    const key = this.secretsEncryptionKey;
    if (key) {
      for (const name of [this.privateKeyParameterName, this.webhookSecretParameterName]) {
        grantee.grantPrincipal.addToPrincipalPolicy(this.throughSsm(key, ['kms:Encrypt'], name));
      }
    }
  }

  /**
   * What the setup token's custom resource does: write the token at deploy, delete it and the credentials with the stack,
   * once DescribeStacks says the stack is being deleted.
   */
  grantTokenLifecycle(grantee: iam.IGrantable): void {
    grantDescribeOwnStack(this.scope, grantee);
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:PutParameter'],
      resources: [parameterArn(this.scope, this.setupTokenParameterName)],
    }));
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:DeleteParameters'],
      resources: [this.setupTokenParameterName, this.appIdParameterName, this.privateKeyParameterName, this.webhookSecretParameterName]
        .map((name) => parameterArn(this.scope, name)),
    }));
  }

  /** Read the webhook secret (the webhook, which checks each delivery's signature with it). */
  grantReadWebhookSecret(grantee: iam.IGrantable): void {
    this.grantRead(grantee, this.webhookSecretParameterName);
  }

  private grantRead(grantee: iam.IGrantable, parameterName: string, secure = true): void {
    // A SecureString under the AWS managed key aws/ssm: its key policy lets account principals
    // decrypt through SSM, so no KMS statement is needed (decryptThroughSsm for a key of one's own).
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [parameterArn(this.scope, parameterName)],
    }));
    const key = this.secretsEncryptionKey;
    if (key && secure) grantee.grantPrincipal.addToPrincipalPolicy(this.throughSsm(key, ['kms:Decrypt'], parameterName));
  }

  /**
   * Encrypt or decrypt one SecureString parameter under a customer managed key: only through SSM,
   * and only for that parameter (SSM passes its ARN as the encryption context `PARAMETER_ARN`, and
   * writes a standard parameter with kms:Encrypt,
   * https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
   */
  private throughSsm(key: kms.IKey, actions: string[], parameterName: string): iam.PolicyStatement {
    const stack = Stack.of(this.scope);
    return new iam.PolicyStatement({
      actions,
      resources: [key.keyArn],
      conditions: {
        StringEquals: {
          'kms:EncryptionContext:PARAMETER_ARN': parameterArn(this.scope, parameterName),
          'kms:ViaService': `ssm.${stack.region}.${stack.urlSuffix}`,
        },
      },
    });
  }
}

interface ParsedGitHubUrl {
  readonly host: string;
  readonly apiUrl: string;
  readonly port: number;
  readonly error?: string;
}

function parseGitHubUrl(url: string): ParsedGitHubUrl {
  const fix = 'give the server\'s base URL, e.g. \'https://ghes.example.com\'.';
  if (Token.isUnresolved(url)) return { host: url, apiUrl: url, port: 443, error: `github.url must be known at synth time; ${fix}` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { host: 'invalid', apiUrl: 'invalid', port: 443, error: `github.url '${url}' is not a URL; ${fix}` };
  }
  if (parsed.protocol !== 'https:') {
    return { host: parsed.hostname, apiUrl: url, port: 443, error: `github.url '${url}' must use https; ${fix}` };
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '' || parsed.search || parsed.username) {
    return { host: parsed.hostname, apiUrl: url, port: 443, error: `github.url '${url}' has a path, query or credentials; ${fix} The API path /api/v3 is added for you.` };
  }
  const apiUrl = parsed.hostname === 'github.com' ? 'https://api.github.com' : `${parsed.origin}/api/v3`;
  return { host: parsed.hostname, apiUrl, port: parsed.port === '' ? 443 : Number(parsed.port) };
}
