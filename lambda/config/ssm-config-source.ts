// Reads every runner config parameter under one SSM path (recursive, all pages) and validates them.

import { paginateGetParametersByPath, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../core/errors';
import { RunnerConfigSource } from '../core/ports';
import { checkRunnerConfigSet, parseRunnerConfigParameter, RunnerConfig } from '../core/runner-config';

export class SsmConfigSource implements RunnerConfigSource {
  constructor(private readonly ssm: SSMClient, private readonly path: string) {}

  async loadConfigs(): Promise<readonly RunnerConfig[]> {
    const configs: RunnerConfig[] = [];
    const pages = paginateGetParametersByPath({ client: this.ssm }, { Path: this.path, Recursive: true, WithDecryption: false });
    for await (const page of pages) {
      for (const parameter of page.Parameters ?? []) {
        const name = parameter.Name ?? '(unnamed)';
        if (parameter.Type !== 'String') {
          throw new ConfigError(
            `runner config parameter ${name} is of type ${parameter.Type}; the construct writes String parameters holding JSON. Remove it from ${this.path} or redeploy.`,
            name,
          );
        }
        configs.push(parseRunnerConfigParameter(name, parameter.Value ?? ''));
      }
    }
    return checkRunnerConfigSet(configs, this.path);
  }
}
