// Parameter Store's data: named parameters with a version history; SecureString values are kept
// encrypted (AES-256-GCM under a per-simulator key, standing in for KMS) and decrypted only on request.
import { createCipheriv, createDecipheriv, randomBytes } from 'crypto';
import { ssmErrors } from './errors';
import { SimClock } from '../common/time';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
export type ParameterTier = 'Standard' | 'Advanced';

export interface ParameterVersion {
  readonly name: string;
  readonly type: ParameterType;
  /** Plain text for String / StringList, ciphertext (base64) for SecureString. */
  readonly storedValue: string;
  readonly version: number;
  /** Simulated epoch ms. */
  readonly lastModified: number;
  readonly tier: ParameterTier;
  readonly keyId?: string;
  readonly description?: string;
  readonly allowedPattern?: string;
  readonly dataType: string;
}

export interface PutInput {
  readonly name: string;
  readonly value: string;
  readonly type?: ParameterType;
  readonly overwrite?: boolean;
  readonly tier?: ParameterTier;
  readonly keyId?: string;
  readonly description?: string;
  readonly allowedPattern?: string;
  readonly dataType?: string;
}

/** Every version kept, like SSM's history of 100. */
const MAX_VERSIONS = 100;
/** Looks like a KMS envelope (`AQICAH…`) so nobody mistakes it for the plain value. */
const CIPHERTEXT_HEADER = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);

export class ParameterStore {
  private readonly parameters = new Map<string, ParameterVersion[]>();
  private readonly key = randomBytes(32);

  constructor(private readonly clock: SimClock) {}

  put(input: PutInput): ParameterVersion {
    const history = this.parameters.get(input.name);
    const current = history?.[history.length - 1];
    if (current && !input.overwrite) throw ssmErrors.alreadyExists();
    const type = input.type ?? current?.type;
    if (!type) throw ssmErrors.validation('A parameter type is required when you create a parameter.');
    const allowedPattern = input.allowedPattern ?? current?.allowedPattern;
    if (allowedPattern !== undefined && !new RegExp(`^(?:${allowedPattern})$`).test(input.value)) {
      throw ssmErrors.patternMismatch(allowedPattern);
    }
    const version: ParameterVersion = {
      name: input.name,
      type,
      storedValue: type === 'SecureString' ? this.encrypt(input.value) : input.value,
      version: (current?.version ?? 0) + 1,
      lastModified: this.clock.now(),
      tier: input.tier ?? current?.tier ?? 'Standard',
      keyId: type === 'SecureString' ? input.keyId ?? current?.keyId ?? 'alias/aws/ssm' : undefined,
      description: input.description ?? current?.description,
      allowedPattern,
      dataType: input.dataType ?? current?.dataType ?? 'text',
    };
    const versions = [...(history ?? []), version].slice(-MAX_VERSIONS);
    this.parameters.set(input.name, versions);
    return version;
  }

  /** The latest version, or the numbered one; undefined when the name is unknown, ParameterVersionNotFound for an unknown version. */
  get(name: string, version?: number): ParameterVersion | undefined {
    const history = this.parameters.get(name);
    if (!history) return undefined;
    if (version === undefined) return history[history.length - 1];
    const found = history.find((v) => v.version === version);
    if (!found) throw ssmErrors.versionNotFound(name, String(version));
    return found;
  }

  delete(name: string): boolean {
    return this.parameters.delete(name);
  }

  /** Latest versions of every parameter, sorted by name. */
  latest(): ParameterVersion[] {
    return [...this.parameters.values()].map((h) => h[h.length - 1]).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The value a client sees: SecureString stays ciphertext unless it asked for decryption. */
  valueOf(p: ParameterVersion, withDecryption: boolean): string {
    return p.type === 'SecureString' && withDecryption ? this.decrypt(p.storedValue) : p.storedValue;
  }

  private encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([CIPHERTEXT_HEADER, iv, cipher.getAuthTag(), body]).toString('base64');
  }

  private decrypt(stored: string): string {
    const raw = Buffer.from(stored, 'base64');
    const at = CIPHERTEXT_HEADER.length;
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(at, at + 12));
    decipher.setAuthTag(raw.subarray(at + 12, at + 28));
    return Buffer.concat([decipher.update(raw.subarray(at + 28)), decipher.final()]).toString('utf8');
  }
}
