// Validates responses against the GHES 3.19 OpenAPI description (@octokit/openapi) with ajv. The spec is
// OpenAPI 3.0: `nullable` is not JSON Schema, so it is rewritten into the JSON Schema that means the
// same — no schema is loosened. Two quirks need care:
// - `nullable: true` beside `enum` must add null to the enum, or null never validates;
// - a `oneOf` whose branches are each nullable matches null in several branches, which `oneOf`
//   forbids; null is hoisted out (null, or exactly one of the non-null branches).
import { readFileSync } from 'fs';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SPEC_ID = 'ghes-3.19';
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export const spec = JSON.parse(
  readFileSync(require.resolve('@octokit/openapi/generated/ghes-3.19.json'), 'utf8'),
) as { paths: Record<string, Record<string, { responses: Record<string, JsonObject> }>>; components: JsonObject };

/** OpenAPI 3.0 schema → JSON Schema (draft 7) with the same meaning. */
export function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  let schema: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // Examples are data, not schemas.
    schema[key] = key === 'example' || key === 'examples' ? value : toJsonSchema(value);
  }
  if (Array.isArray(node.oneOf) && node.oneOf.filter((b) => isObject(b) && b.nullable === true).length > 1) {
    const branches = node.oneOf.map((b) => (isObject(b) ? toJsonSchema(withoutNullable(b)) : b));
    const { nullable: _dropped, ...rest } = schema;
    return { anyOf: [{ type: 'null' }, { ...rest, oneOf: branches }] };
  }
  if (schema.nullable === true) {
    const { nullable: _dropped, ...rest } = schema;
    if (typeof rest.type === 'string') {
      schema = { ...rest, type: [rest.type, 'null'] };
      if (Array.isArray(rest.enum) && !rest.enum.includes(null)) schema.enum = [...rest.enum, null];
    } else {
      schema = { anyOf: [{ type: 'null' }, rest] };
    }
  }
  return schema;
}

function withoutNullable(schema: JsonObject): JsonObject {
  const { nullable: _dropped, ...rest } = schema;
  return rest;
}

/** Rewrites local refs (`#/components/…`) of an inline schema to point into the registered spec. */
function anchorRefs(node: Json): Json {
  if (Array.isArray(node)) return node.map(anchorRefs);
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `${SPEC_ID}${v}` : anchorRefs(v)]),
  );
}

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
ajv.addSchema({ $id: SPEC_ID, components: toJsonSchema(spec.components as Json) } as object);

const validators = new Map<string, ValidateFunction | 'no-content'>();

export function operation(method: string, template: string): { responses: Record<string, JsonObject> } | undefined {
  return spec.paths[template]?.[method.toLowerCase()];
}

/** The statuses the spec declares for an operation. */
export function declaredStatuses(method: string, template: string): string[] {
  return Object.keys(operation(method, template)?.responses ?? {});
}

/** The validator of one operation's response for one status, or undefined if the spec does not declare it. */
function validatorFor(method: string, template: string, status: number): ValidateFunction | 'no-content' | undefined {
  const key = `${method} ${template} ${status}`;
  if (validators.has(key)) return validators.get(key);
  let response = operation(method, template)?.responses[String(status)];
  if (!response) return undefined;
  if (typeof response.$ref === 'string') {
    response = (spec.components.responses as JsonObject)[response.$ref.split('/').pop()!] as JsonObject;
  }
  const content = isObject(response.content) ? response.content['application/json'] : undefined;
  const schema = isObject(content) ? content.schema : undefined;
  const validator = isObject(schema) ? ajv.compile(anchorRefs(toJsonSchema(schema)) as object) : 'no-content';
  validators.set(key, validator);
  return validator;
}

export interface Verdict {
  readonly declared: boolean;
  /** ajv's errors, empty when the body conforms. */
  readonly errors: string[];
}

/** Validates a body against the schema the spec gives for this operation and status. */
export function validateResponse(method: string, template: string, status: number, body: unknown): Verdict {
  const validator = validatorFor(method, template, status);
  if (validator === undefined) return { declared: false, errors: [] };
  if (validator === 'no-content') {
    return { declared: true, errors: body === undefined || body === '' ? [] : [`expected no content, got ${JSON.stringify(body)}`] };
  }
  const ok = validator(body);
  return { declared: true, errors: ok ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`) };
}

/** Validates a body against one of the spec's component schemas, e.g. `installation`. */
export function validateComponent(name: string, body: unknown): string[] {
  const validator = ajv.getSchema(`${SPEC_ID}#/components/schemas/${name}`)!;
  return validator(body) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** For statuses the spec omits but GitHub sends: GitHub's "Basic Error" body. */
export function validateBasicError(body: unknown): string[] {
  const validator = ajv.getSchema(`${SPEC_ID}#/components/schemas/basic-error`)!;
  return validator(body) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}
