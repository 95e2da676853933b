// The App's credentials and the setup token in SSM: the App id a String, the private key and the
// webhook secret SecureStrings (under the deployment's key, if it has one), the token's SHA-256 a
// String. Setup never overwrites a credential (PutParameter without Overwrite fails with
// ParameterAlreadyExists), and undoes its own writes when one exists.
import {
  DeleteParameterCommand, DeleteParametersCommand, GetParameterCommand, GetParametersCommand, ParameterAlreadyExists, ParameterNotFound,
  PutParameterCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import { AppCredentials, AppCredentialStore, CredentialsExistError, SetupTokenStore } from '../core/setup';

export interface AppCredentialParameters {
  readonly appIdParameterName: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
  readonly setupTokenParameterName: string;
  /** The customer managed key of the SecureStrings. @default - aws/ssm */
  readonly secretsKeyId?: string;
}

export class SsmAppCredentials implements AppCredentialStore, SetupTokenStore {
  constructor(private readonly ssm: SSMClient, private readonly names: AppCredentialParameters) {}

  private get credentialNames(): string[] {
    return [this.names.appIdParameterName, this.names.privateKeyParameterName, this.names.webhookSecretParameterName];
  }

  async tokenHash(): Promise<string | undefined> {
    try {
      const { Parameter } = await this.ssm.send(new GetParameterCommand({ Name: this.names.setupTokenParameterName }));
      return Parameter?.Value;
    } catch (e) {
      if (e instanceof ParameterNotFound) return undefined;
      throw e;
    }
  }

  async existingCredentials(): Promise<string[]> {
    // Names only: without decryption a SecureString's value stays encrypted.
    const { Parameters } = await this.ssm.send(new GetParametersCommand({ Names: this.credentialNames }));
    return (Parameters ?? []).map((p) => p.Name!).sort();
  }

  async storeCredentials(credentials: AppCredentials): Promise<void> {
    const { secretsKeyId } = this.names;
    const writes = [
      { Name: this.names.webhookSecretParameterName, Value: credentials.webhookSecret, Type: 'SecureString' as const, KeyId: secretsKeyId },
      { Name: this.names.privateKeyParameterName, Value: credentials.privateKeyPem, Type: 'SecureString' as const, KeyId: secretsKeyId },
      // Last: the functions take the App for set up once its id is there.
      { Name: this.names.appIdParameterName, Value: credentials.appId, Type: 'String' as const },
    ];
    const written: string[] = [];
    for (const write of writes) {
      try {
        // Standard tier whatever the account's default: free, and written with kms:Encrypt (advanced would need GenerateDataKey).
        await this.ssm.send(new PutParameterCommand({ ...write, Overwrite: false, Tier: 'Standard', Description: 'Written by the cdk-ephemeral-runners setup page' }));
        written.push(write.Name);
      } catch (e) {
        if (written.length > 0) await this.ssm.send(new DeleteParametersCommand({ Names: written }));
        if (e instanceof ParameterAlreadyExists) throw new CredentialsExistError([write.Name]);
        throw e;
      }
    }
  }

  async deleteToken(): Promise<void> {
    try {
      await this.ssm.send(new DeleteParameterCommand({ Name: this.names.setupTokenParameterName }));
    } catch (e) {
      if (!(e instanceof ParameterNotFound)) throw e;
    }
  }

  async putTokenHash(hash: string): Promise<void> {
    await this.ssm.send(new PutParameterCommand({
      Name: this.names.setupTokenParameterName,
      Value: hash,
      Type: 'String',
      Overwrite: true,
      Tier: 'Standard',
      Description: 'SHA-256 of the cdk-ephemeral-runners setup token',
    }));
  }

  async deleteAll(): Promise<void> {
    // Names that do not exist come back as InvalidParameters, not as an error.
    await this.ssm.send(new DeleteParametersCommand({ Names: [this.names.setupTokenParameterName, ...this.credentialNames] }));
  }
}
