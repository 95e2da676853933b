// The GitHub server and App the functions work for: where its API is, and the two SecureString
// parameters (the App's private key, the webhook secret) the functions may read.
import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

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
  readonly appId: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
  /** The key both SecureStrings are encrypted with. @default - the AWS managed key aws/ssm */
  readonly secretsEncryptionKey?: kms.IKey;
}

/** The GitHub server and App, and the grants to read the App's secrets. */
export class GitHubApp {
  /** Hostname of the server (without a port): job ids are unique per server, so it is part of every job's key. */
  readonly host: string;
  /** The REST API base: `https://HOST/api/v3`, or `https://api.github.com` for github.com. */
  readonly apiUrl: string;
  /** The TCP port the server answers on. */
  readonly port: number;
  readonly appId: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
  /** What is wrong with the URL, if anything. */
  readonly urlProblem?: string;

  constructor(private readonly scope: Construct, private readonly props: GitHubAppProps) {
    const parsed = parseGitHubUrl(props.url);
    this.host = parsed.host;
    this.apiUrl = parsed.apiUrl;
    this.port = parsed.port;
    this.urlProblem = parsed.error;
    this.appId = props.appId;
    this.privateKeyParameterName = props.privateKeyParameterName;
    this.webhookSecretParameterName = props.webhookSecretParameterName;
  }

  /** Every problem of the URL and the App id, for the construct's validation. */
  problems(): string[] {
    const problems = this.urlProblem ? [this.urlProblem] : [];
    if (!Token.isUnresolved(this.appId) && !/^[1-9][0-9]{0,11}$/.test(this.appId)) {
      problems.push(`github.appId '${this.appId}' is not a GitHub App id; use the numeric App ID from the App's settings page, e.g. '12'.`);
    }
    return problems;
  }

  /** Read the App's private key (the functions that call GitHub). */
  grantReadPrivateKey(grantee: iam.IGrantable): void {
    this.grantRead(grantee, this.privateKeyParameterName);
  }

  /** Read the webhook secret (the webhook, which checks each delivery's signature with it). */
  grantReadWebhookSecret(grantee: iam.IGrantable): void {
    this.grantRead(grantee, this.webhookSecretParameterName);
  }

  private grantRead(grantee: iam.IGrantable, parameterName: string): void {
    // A SecureString under the AWS managed key aws/ssm: its key policy lets account principals
    // decrypt through SSM, so no KMS statement is needed (decryptThroughSsm for a key of one's own).
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [parameterArn(this.scope, parameterName)],
    }));
    const key = this.props.secretsEncryptionKey;
    if (key) grantee.grantPrincipal.addToPrincipalPolicy(this.decryptThroughSsm(key, parameterName));
  }

  /**
   * Decrypt one SecureString parameter written under a customer managed key: only through SSM, and
   * only for that parameter (SSM passes its ARN as the encryption context `PARAMETER_ARN`,
   * https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
   */
  private decryptThroughSsm(key: kms.IKey, parameterName: string): iam.PolicyStatement {
    const stack = Stack.of(this.scope);
    return new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
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
