// The Parameter Store operations over JSON 1.1 shapes: input validation with SSM's error codes,
// selectors (`name:3`), paths and pagination (reference/aws.md 8.2).
import { ssmErrors } from './errors';
import { ParameterStore, ParameterTier, ParameterType, ParameterVersion } from './store';

type Json = Record<string, unknown>;

const NAME_CHARS = /^[a-zA-Z0-9_.\-/]+$/;
const NAME_RULES = 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of ' +
  'sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';
const TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
const VALUE_LIMIT: Record<ParameterTier, number> = { Standard: 4096, Advanced: 8192 };

export class ParameterOperations {
  constructor(private readonly store: ParameterStore, private readonly region: string, private readonly accountId: string) {}

  getParameter(input: Json): Json {
    const { name, version, selector } = this.parseSelector(requiredString(input, 'Name'));
    const p = this.store.get(name, version);
    if (!p) throw ssmErrors.notFound();
    return { Parameter: this.render(p, input.WithDecryption === true, selector) };
  }

  getParameters(input: Json): Json {
    const names = input.Names;
    if (!Array.isArray(names) || names.length < 1 || names.length > 10 || names.some((n) => typeof n !== 'string')) {
      throw ssmErrors.validation(`1 validation error detected: Value '${JSON.stringify(names)}' at 'names' failed to satisfy constraint: ` +
        'Member must have length less than or equal to 10 and greater than or equal to 1');
    }
    const found: Json[] = [];
    const invalid: string[] = [];
    for (const requested of [...new Set(names as string[])]) {
      try {
        const { name, version, selector } = this.parseSelector(requested);
        const p = this.store.get(name, version);
        if (p) found.push(this.render(p, input.WithDecryption === true, selector));
        else invalid.push(requested);
      } catch {
        // Missing names and versions are not errors here: they are listed as invalid.
        invalid.push(requested);
      }
    }
    found.sort((a, b) => ((a.Name as string) < (b.Name as string) ? -1 : 1));
    return { Parameters: found, InvalidParameters: invalid };
  }

  getParametersByPath(input: Json): Json {
    const raw = requiredString(input, 'Path');
    if (!raw.startsWith('/') || !NAME_CHARS.test(raw)) {
      throw ssmErrors.validation(`The parameter path ${raw} is not valid: it must start with / and use letters, numbers and .-_/ only.`);
    }
    if (Array.isArray(input.ParameterFilters) && input.ParameterFilters.length > 0) {
      throw ssmErrors.validation('The SSM simulator does not support ParameterFilters.');
    }
    const maxResults = input.MaxResults === undefined ? 10 : input.MaxResults;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10) {
      throw ssmErrors.validation(`1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: ` +
        'Member must have value less than or equal to 10');
    }
    const path = raw === '/' ? '/' : raw.replace(/\/+$/, '') + '/';
    const matches = this.store.latest().filter((p) => {
      if (!p.name.startsWith(path) || p.name === path) return false;
      return input.Recursive === true || !p.name.slice(path.length).includes('/');
    });
    const offset = decodeToken(input.NextToken, raw);
    const page = matches.slice(offset, offset + maxResults);
    const next = offset + maxResults < matches.length ? encodeToken(offset + maxResults, raw) : undefined;
    return { Parameters: page.map((p) => this.render(p, input.WithDecryption === true)), NextToken: next };
  }

  putParameter(input: Json): Json {
    const name = requiredString(input, 'Name');
    validateName(name);
    const value = input.Value;
    if (typeof value !== 'string' || value.length === 0) {
      throw ssmErrors.validation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    const type = input.Type;
    if (type !== undefined && !TYPES.includes(type as ParameterType)) {
      throw ssmErrors.validation(`1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: ` +
        'Member must satisfy enum value set: [SecureString, StringList, String]');
    }
    if (input.Overwrite === true && Array.isArray(input.Tags) && input.Tags.length > 0) {
      throw ssmErrors.validation('Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove ' +
        'overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.');
    }
    const tier = resolveTier(input.Tier, value);
    if (Buffer.byteLength(value) > VALUE_LIMIT[tier]) {
      throw ssmErrors.validation(tier === 'Standard'
        ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.'
        : 'Advanced tier parameters support a maximum parameter value of 8192 characters.');
    }
    const stored = this.store.put({
      name,
      value,
      tier,
      type: type as ParameterType | undefined,
      overwrite: input.Overwrite === true,
      keyId: optionalString(input, 'KeyId'),
      description: optionalString(input, 'Description'),
      allowedPattern: optionalString(input, 'AllowedPattern'),
      dataType: optionalString(input, 'DataType'),
    });
    return { Version: stored.version, Tier: stored.tier };
  }

  deleteParameter(input: Json): Json {
    if (!this.store.delete(requiredString(input, 'Name'))) throw ssmErrors.notFound();
    return {};
  }

  deleteParameters(input: Json): Json {
    const names = input.Names;
    if (!Array.isArray(names) || names.length < 1 || names.length > 10) {
      throw ssmErrors.validation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10");
    }
    const deleted = (names as string[]).filter((n) => this.store.delete(n));
    return { DeletedParameters: deleted, InvalidParameters: (names as string[]).filter((n) => !deleted.includes(n)) };
  }

  private render(p: ParameterVersion, withDecryption: boolean, selector?: string): Json {
    return {
      Name: p.name,
      Type: p.type,
      // WithDecryption is ignored for String and StringList (reference/aws.md 8.2).
      Value: this.store.valueOf(p, withDecryption),
      Version: p.version,
      Selector: selector,
      LastModifiedDate: p.lastModified / 1000,
      ARN: `arn:aws:ssm:${this.region}:${this.accountId}:parameter/${p.name.replace(/^\//, '')}`,
      DataType: p.dataType,
    };
  }

  /** `name` or `name:7` (a version); labels and ARNs as names are not simulated. */
  private parseSelector(requested: string): { name: string; version?: number; selector?: string } {
    const colon = requested.lastIndexOf(':');
    const name = colon >= 0 ? requested.slice(0, colon) : requested;
    if (!NAME_CHARS.test(name) || name.length > 2048) throw ssmErrors.validation(NAME_RULES);
    if (colon < 0) return { name };
    const selector = requested.slice(colon);
    if (!/^:[0-9]+$/.test(selector)) throw ssmErrors.versionNotFound(name, selector.slice(1));
    return { name, version: Number(selector.slice(1)), selector };
  }
}

function validateName(name: string): void {
  if (name.length > 2048 || !NAME_CHARS.test(name) || name.endsWith('/')) throw ssmErrors.validation(NAME_RULES);
  const first = name.replace(/^\//, '').split('/')[0].toLowerCase();
  if (first.startsWith('aws') || first.startsWith('ssm')) throw ssmErrors.validation(NAME_RULES);
  if (name.includes('/') && !name.startsWith('/')) {
    throw ssmErrors.validation('Parameter name must be a fully qualified name: a name with / must start with /.');
  }
  if (name.split('/').filter((s) => s !== '').length > 15) throw ssmErrors.hierarchyTooDeep();
}

function resolveTier(tier: unknown, value: string): ParameterTier {
  if (tier === undefined || tier === 'Standard') return 'Standard';
  if (tier === 'Advanced') return 'Advanced';
  if (tier === 'Intelligent-Tiering') return Buffer.byteLength(value) > VALUE_LIMIT.Standard ? 'Advanced' : 'Standard';
  throw ssmErrors.validation(`1 validation error detected: Value '${String(tier)}' at 'tier' failed to satisfy constraint: ` +
    'Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]');
}

function requiredString(input: Json, member: string): string {
  const value = input[member];
  if (typeof value !== 'string' || value.length === 0) {
    throw ssmErrors.validation(`1 validation error detected: Value null at '${member[0].toLowerCase()}${member.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalString(input: Json, member: string): string | undefined {
  return typeof input[member] === 'string' ? input[member] : undefined;
}

function encodeToken(offset: number, path: string): string {
  return Buffer.from(JSON.stringify({ o: offset, p: path })).toString('base64');
}

function decodeToken(token: unknown, path: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { o?: unknown; p?: unknown };
    if (typeof parsed.o === 'number' && parsed.p === path) return parsed.o;
  } catch {
    // reported below
  }
  throw ssmErrors.invalidNextToken();
}
