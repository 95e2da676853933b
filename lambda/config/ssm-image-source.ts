// The runner image's AMI id, read from its SSM parameter at launch (the image pipeline rewrites the
// parameter with each new image). A parameter that does not exist yet means the first image is
// still being built: the caller waits, it is not an error.
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { ImageSourceDocument } from '../../src/runner-config-document';
import { ImageSource } from '../core/ports';

export interface SsmImageSourceOptions {
  /** How long a found AMI id is reused before the parameter is read again. @default 60 s */
  readonly cacheMs?: number;
  /** How long a missing parameter is remembered as missing (a burst of jobs reads it once). @default 5 s */
  readonly missingCacheMs?: number;
  readonly now?: () => number;
}

export class SsmImageSource implements ImageSource {
  private readonly cache = new Map<string, { imageId: string | undefined; until: number }>();
  private readonly cacheMs: number;
  private readonly missingCacheMs: number;
  private readonly now: () => number;

  constructor(private readonly ssm: SSMClient, options: SsmImageSourceOptions = {}) {
    this.cacheMs = options.cacheMs ?? 60_000;
    this.missingCacheMs = options.missingCacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  async imageIdFor(source: ImageSourceDocument): Promise<string | undefined> {
    if (source.amiId !== undefined) return source.amiId;
    const name = source.parameterName!;
    const cached = this.cache.get(name);
    if (cached && this.now() < cached.until) return cached.imageId;
    let imageId: string | undefined;
    try {
      const { Parameter } = await this.ssm.send(new GetParameterCommand({ Name: name }));
      imageId = Parameter?.Value || undefined;
    } catch (e) {
      // SSM often answers ParameterNotFound without a message; the class is what counts.
      if (!(e instanceof ParameterNotFound)) throw e;
    }
    this.cache.set(name, { imageId, until: this.now() + (imageId ? this.cacheMs : this.missingCacheMs) });
    return imageId;
  }
}
