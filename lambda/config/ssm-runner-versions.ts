// The runner versions kept in SSM: each runner image's (written by its build's test phase) and the
// one the GitHub server ships (written here, read by the builds as their floor). A parameter that
// is not there reads as no version.
import { GetParameterCommand, GetParametersCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { NO_RUNNER_VERSION } from '../../src/contracts/runner-version';
import { RunnerVersionStore } from '../core/runner-version';

export interface RunnerVersionParameters {
  /** The server's version. */
  readonly server: string;
  /** Each image's, by architecture (`x64`, `arm64`). */
  readonly images: Readonly<Record<string, string>>;
}

export class SsmRunnerVersions implements RunnerVersionStore {
  constructor(private readonly ssm: SSMClient, private readonly names: RunnerVersionParameters) {}

  async imageVersions(): Promise<Readonly<Record<string, string>>> {
    const entries = Object.entries(this.names.images);
    if (entries.length === 0) return {};
    const { Parameters = [] } = await this.ssm.send(new GetParametersCommand({ Names: entries.map(([, name]) => name) }));
    const byName = new Map(Parameters.map((p) => [p.Name, p.Value ?? NO_RUNNER_VERSION]));
    return Object.fromEntries(entries.map(([architecture, name]) => [architecture, byName.get(name) ?? NO_RUNNER_VERSION]));
  }

  async serverVersion(): Promise<string> {
    try {
      const { Parameter } = await this.ssm.send(new GetParameterCommand({ Name: this.names.server }));
      return Parameter?.Value ?? NO_RUNNER_VERSION;
    } catch (e) {
      if (e instanceof ParameterNotFound) return NO_RUNNER_VERSION;
      throw e;
    }
  }

  async setServerVersion(version: string): Promise<void> {
    await this.ssm.send(new PutParameterCommand({ Name: this.names.server, Value: version, Type: 'String', Overwrite: true }));
  }
}
