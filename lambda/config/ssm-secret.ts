// Reads a secret from an SSM SecureString parameter. The construct cannot create it (the value
// must stay out of the template), so until someone sets it the parameter does not exist.

import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { SecretNotSetError } from '../core/errors';
import { SecretSource } from '../core/ports';

export class SsmSecret implements SecretSource {
  /** `what` names the secret in errors, e.g. 'the GitHub App private key'. */
  constructor(private readonly ssm: SSMClient, readonly parameterName: string, private readonly what?: string) {}

  async readSecret(): Promise<string> {
    try {
      const { Parameter } = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName, WithDecryption: true }));
      if (!Parameter?.Value) throw new SecretNotSetError(this.parameterName, undefined, this.what);
      return Parameter.Value;
    } catch (e) {
      // SSM often answers ParameterNotFound without a message; the class is what counts.
      if (e instanceof ParameterNotFound) throw new SecretNotSetError(this.parameterName, { cause: e }, this.what);
      throw e;
    }
  }
}
