// Reading EC2 Query parameters: a flat form (`Filter.1.Value.2=x`) viewed as structures and 1-based
// flattened lists (no `.member.`), as the SDK serializes them (reference/aws.md 1.2).
import { apiErrors } from './errors';

export class QueryParams {
  /** Parses a form-encoded body or query string. */
  static parse(form: string): QueryParams {
    const flat = new Map<string, string>();
    for (const [key, value] of new URLSearchParams(form)) flat.set(key, value);
    return new QueryParams(flat, '');
  }

  constructor(private readonly flat: ReadonlyMap<string, string>, private readonly prefix: string) {}

  /** The full parameter name of a member of this view, for error messages. */
  nameOf(member: string): string {
    return this.prefix + member;
  }

  string(member: string): string | undefined {
    return this.flat.get(this.prefix + member);
  }

  requiredString(member: string): string {
    const value = this.string(member);
    if (value === undefined || value === '') throw apiErrors.missingParameter(this.nameOf(member));
    return value;
  }

  integer(member: string): number | undefined {
    const raw = this.string(member);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value)) {
      throw apiErrors.invalidParameterValue(`Invalid value '${raw}' for ${this.nameOf(member)}: expected an integer`);
    }
    return value;
  }

  number(member: string): number | undefined {
    const raw = this.string(member);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value)) {
      throw apiErrors.invalidParameterValue(`Invalid value '${raw}' for ${this.nameOf(member)}: expected a number`);
    }
    return value;
  }

  boolean(member: string): boolean | undefined {
    const raw = this.string(member);
    if (raw === undefined) return undefined;
    if (raw !== 'true' && raw !== 'false') {
      throw apiErrors.invalidParameterValue(`Invalid value '${raw}' for ${this.nameOf(member)}: expected true or false`);
    }
    return raw === 'true';
  }

  /** True when any parameter lives under `member` (a structure that was sent). */
  has(member: string): boolean {
    const full = this.prefix + member;
    for (const key of this.flat.keys()) if (key === full || key.startsWith(full + '.')) return true;
    return false;
  }

  /** A structure member as its own view. */
  struct(member: string): QueryParams {
    return new QueryParams(this.flat, `${this.prefix}${member}.`);
  }

  /** A list of structures, `Member.1.*`, `Member.2.*`, … in index order. */
  list(member: string): QueryParams[] {
    return this.indexes(member).map((i) => new QueryParams(this.flat, `${this.prefix}${member}.${i}.`));
  }

  /** A list of strings, `Member.1`, `Member.2`, … in index order. */
  strings(member: string): string[] {
    return this.indexes(member)
      .map((i) => this.flat.get(`${this.prefix}${member}.${i}`))
      .filter((v): v is string => v !== undefined);
  }

  /** Every parameter except the given names, sorted: the fingerprint of a request for idempotency. */
  fingerprint(exclude: readonly string[]): string {
    return [...this.flat.entries()]
      .filter(([key]) => !exclude.includes(key))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `${key}=${value}`)
      .join('&');
  }

  private indexes(member: string): number[] {
    const head = `${this.prefix}${member}.`;
    const found = new Set<number>();
    for (const key of this.flat.keys()) {
      if (!key.startsWith(head)) continue;
      const index = key.slice(head.length).split('.')[0];
      if (/^[0-9]+$/.test(index)) found.add(Number(index));
    }
    return [...found].sort((a, b) => a - b);
  }
}
