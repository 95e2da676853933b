// EventBridge event pattern matching, the subset our rules and common rules use: exact values in
// arrays (any of them), nested objects (`detail.state`), prefix, suffix, equals-ignore-case,
// anything-but (values, prefix, suffix), exists, numeric ranges, wildcard and $or.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// An event's array field matches when any of its elements matches.

export type EventPattern = { readonly [key: string]: unknown };

export class InvalidEventPatternError extends Error {
  constructor(message: string) {
    super(`Event pattern is not valid. Reason: ${message}`);
    this.name = 'InvalidEventPatternError';
  }
}

const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'exists', 'numeric', 'wildcard']);
const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

/** Throws InvalidEventPatternError naming the first problem. */
export function validatePattern(pattern: unknown, path = ''): void {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) throw new InvalidEventPatternError(`${path || 'the pattern'} must be an object`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw new InvalidEventPatternError(`${at} must be an array of at least two patterns`);
      value.forEach((p, i) => validatePattern(p, `${at}[${i}]`));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError(`${at}: empty arrays are not allowed`);
      value.forEach((m) => validateMatcher(m, at));
    } else if (typeof value === 'object' && value !== null) {
      validatePattern(value, at);
    } else {
      throw new InvalidEventPatternError(`${at} must be an array of values or an object, got ${JSON.stringify(value)}`);
    }
  }
}

function validateMatcher(matcher: unknown, at: string): void {
  if (matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher)) return;
  if (typeof matcher !== 'object' || Array.isArray(matcher)) throw new InvalidEventPatternError(`${at}: ${JSON.stringify(matcher)} is not a value or an operator`);
  const keys = Object.keys(matcher);
  if (keys.length !== 1 || !OPERATORS.has(keys[0])) {
    throw new InvalidEventPatternError(`${at}: unsupported operator ${JSON.stringify(matcher)}; supported: ${[...OPERATORS].join(', ')}`);
  }
  const operand = (matcher as Record<string, unknown>)[keys[0]];
  if (keys[0] === 'numeric') {
    const list = operand as unknown[];
    const valid = Array.isArray(list) && list.length > 0 && list.length % 2 === 0 &&
      list.every((x, i) => (i % 2 === 0 ? NUMERIC_OPERATORS.has(x as string) : typeof x === 'number'));
    if (!valid) throw new InvalidEventPatternError(`${at}: numeric takes [operator, number, …] pairs`);
  }
  if (keys[0] === 'exists' && typeof operand !== 'boolean') throw new InvalidEventPatternError(`${at}: exists takes true or false`);
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(expected as EventPattern[]).some((alternative) => matchesPattern(alternative, event))) return false;
      continue;
    }
    const present = typeof event === 'object' && event !== null && !Array.isArray(event) && Object.prototype.hasOwnProperty.call(event, key);
    const value = present ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected)) {
      if (!matchesField(expected, present, value)) return false;
    } else if (!present || !matchesPattern(expected as EventPattern, value)) {
      return false;
    }
  }
  return true;
}

function matchesField(matchers: readonly unknown[], present: boolean, value: unknown): boolean {
  if (!present) return matchers.some((m) => isOperator(m, 'exists') && (m as { exists: boolean }).exists === false);
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((m) => values.some((v) => matchesValue(m, v)));
}

function matchesValue(matcher: unknown, value: unknown): boolean {
  if (matcher === null || typeof matcher !== 'object') return matcher === value;
  const [operator, operand] = Object.entries(matcher)[0];
  // exists matches leaf values only; objects are not leaves.
  const leaf = value === null || typeof value !== 'object';
  switch (operator) {
    case 'exists': return operand === true && leaf;
    case 'prefix': return typeof value === 'string' && matchesAffix(operand, value, (s, a) => s.startsWith(a));
    case 'suffix': return typeof value === 'string' && matchesAffix(operand, value, (s, a) => s.endsWith(a));
    case 'equals-ignore-case': return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'wildcard': return typeof value === 'string' && typeof operand === 'string' && wildcard(operand).test(value);
    case 'numeric': return typeof value === 'number' && numericMatches(operand as unknown[], value);
    case 'anything-but': return leaf && anythingBut(operand, value);
    default: return false;
  }
}

function matchesAffix(operand: unknown, value: string, test: (subject: string, affix: string) => boolean): boolean {
  if (typeof operand === 'string') return test(value, operand);
  const ignoringCase = (operand as { 'equals-ignore-case'?: unknown } | null)?.['equals-ignore-case'];
  return typeof ignoringCase === 'string' && test(value.toLowerCase(), ignoringCase.toLowerCase());
}

function anythingBut(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return !operand.includes(value);
  if (operand !== null && typeof operand === 'object') {
    const [operator, affix] = Object.entries(operand)[0];
    if (typeof value !== 'string' || typeof affix !== 'string') return false;
    if (operator === 'prefix') return !value.startsWith(affix);
    if (operator === 'suffix') return !value.endsWith(affix);
    if (operator === 'equals-ignore-case') return value.toLowerCase() !== affix.toLowerCase();
    return false;
  }
  return value !== operand;
}

function numericMatches(conditions: readonly unknown[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = conditions[i + 1] as number;
    const ok = { '<': value < bound, '<=': value <= bound, '=': value === bound, '>': value > bound, '>=': value >= bound }[conditions[i] as string];
    if (!ok) return false;
  }
  return true;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}

function isOperator(matcher: unknown, operator: string): boolean {
  return typeof matcher === 'object' && matcher !== null && !Array.isArray(matcher) && operator in matcher;
}
