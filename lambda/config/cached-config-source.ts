// Configs are read once per container: the construct puts a hash of them into the function's
// environment, so a config change brings new containers. A failed read is not cached.

import { RunnerConfigSource } from '../core/ports';
import { RunnerConfig } from '../core/runner-config';

export class CachedConfigSource implements RunnerConfigSource {
  private loading?: Promise<readonly RunnerConfig[]>;

  constructor(private readonly source: RunnerConfigSource) {}

  loadConfigs(): Promise<readonly RunnerConfig[]> {
    if (!this.loading) {
      this.loading = this.source.loadConfigs();
      this.loading.catch(() => {
        this.loading = undefined;
      });
    }
    return this.loading;
  }
}
