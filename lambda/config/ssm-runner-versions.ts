// The runner versions kept in SSM: each runner image's (written by its build's test phase) and the
// one the GitHub server ships (written here, read by the builds as their floor). A parameter that
// is not there reads as no version.
import { GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { NO_RUNNER_VERSION } from '../../src/contracts/runner-version';
import { RunnerVersions, RunnerVersionStore } from '../core/runner-version';

export interface RunnerVersionParameters {
  /** The server's version. */
  readonly server: string;
  /** Each image's, by architecture (`x64`, `arm64`). */
  readonly images: Readonly<Record<string, string>>;
}

export class SsmRunnerVersions implements RunnerVersionStore {
  constructor(private readonly ssm: SSMClient, private readonly names: RunnerVersionParameters) {}

  async versions(): Promise<RunnerVersions> {
    const names = [this.names.server, ...Object.values(this.names.images)];
    // One GetParameters for all of them; a name it does not find is in InvalidParameters, and reads as no version.
    const { Parameters = [] } = await this.ssm.send(new GetParametersCommand({ Names: names }));
    const byName = new Map(Parameters.map((p) => [p.Name, p.Value ?? NO_RUNNER_VERSION]));
    const version = (name: string) => byName.get(name) ?? NO_RUNNER_VERSION;
    return {
      server: version(this.names.server),
      images: Object.fromEntries(Object.entries(this.names.images).map(([architecture, name]) => [architecture, version(name)])),
    };
  }

  async setServerVersion(version: string): Promise<void> {
    await this.ssm.send(new PutParameterCommand({ Name: this.names.server, Value: version, Type: 'String', Overwrite: true }));
  }
}
