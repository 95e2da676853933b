// A synthesized template checked as CloudFormation checks it before it creates anything, against the resource schemas
// of @aws-cdk/aws-service-spec (db.json.gz, the database aws-cdk-lib's L1 classes are built from): a key CDK lets
// through untyped (a Json property) is still checked against what CloudFormation defines for it.
import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';

/** A property's type in the database (its `type`; `previousTypes` are what CDK's L1 still accepts). */
type SchemaType =
  | { type: 'string'; allowedValues?: string[] }
  | { type: 'number' | 'integer' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: SchemaType }
  | { type: 'union'; types: SchemaType[] };

type Definition = { readonly name: string; readonly properties: Record<string, { readonly type: SchemaType; readonly required?: boolean }> };

/** One problem CloudFormation would refuse the template for, at `path` (e.g. `Resources.X.Properties.Distributions[0]`). */
export type SchemaFinding = { readonly logicalId: string; readonly path: string; readonly message: string };

type Report = (path: string, message: string) => void;

/** The attributes a resource entry may have beside `Type` and `Properties` (template anatomy). */
const RESOURCE_ATTRIBUTES = ['Type', 'Properties', 'DependsOn', 'Metadata', 'Condition', 'DeletionPolicy', 'UpdateReplacePolicy', 'UpdatePolicy', 'CreationPolicy'];
/** Custom resources: their properties go to their provider, which alone needs a ServiceToken. */
const CUSTOM_RESOURCE = /^(Custom::[A-Za-z0-9_@-]{1,60}|AWS::CloudFormation::CustomResource)$/;
/** The legacy tag type (`{ Key, Value }`), not a type definition of the database. */
const TAG: Definition = { name: 'Tag', properties: { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } } };

let cached: { resources: Map<string, Definition>; types: Map<string, Definition> } | undefined;

/** The schemas, read once per process (the database is 2.5 MB compressed; parsing takes a third of a second). */
function schemas(): NonNullable<typeof cached> {
  if (cached) return cached;
  const file = path.join(path.dirname(require.resolve('@aws-cdk/aws-service-spec/package.json')), 'db.json.gz');
  type Entities<Id> = { entities: Array<Definition & Id> };
  const { schema } = JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8')) as {
    schema: { resource: Entities<{ cloudFormationType: string }>; typeDefinition: Entities<{ $id: string }> };
  };
  cached = {
    resources: new Map(schema.resource.entities.map((r) => [r.cloudFormationType, r])),
    types: new Map(schema.typeDefinition.entities.map((t) => [t.$id, t])),
  };
  return cached;
}

/** Checks every resource of a synthesized template against its CloudFormation resource schema. */
export function validateTemplate(template: { Resources?: Record<string, unknown> }): SchemaFinding[] {
  const findings: SchemaFinding[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const at = `Resources.${logicalId}`;
    const report: Report = (where, message) => findings.push({ logicalId, path: where, message });
    if (!isObject(resource)) {
      report(at, `a resource must be an object at ${at}`);
      continue;
    }
    for (const key of Object.keys(resource)) if (!RESOURCE_ATTRIBUTES.includes(key)) report(at, unexpected(key, at, RESOURCE_ATTRIBUTES));
    const type = resource.Type;
    const properties = resource.Properties ?? {};
    // CDK's version-reporting resource has no schema and needs none.
    if (type === 'AWS::CDK::Metadata') continue;
    if (typeof type !== 'string') {
      report(at, `'Type' is a required property at ${at}`);
    } else if (CUSTOM_RESOURCE.test(type)) {
      if (!isObject(properties) || properties.ServiceToken === undefined) report(`${at}.Properties`, `'ServiceToken' is a required property at ${at}.Properties`);
    } else if (!schemas().resources.has(type)) {
      report(at, `'${type}' is not a CloudFormation resource type at ${at}.Type.${suggestion(type, [...schemas().resources.keys()])}`);
    } else if (!isIntrinsic(properties)) {
      checkObject(schemas().resources.get(type)!, properties, `${at}.Properties`, report);
    }
  }
  return findings;
}

function checkObject(definition: Definition, value: unknown, at: string, report: Report): void {
  if (!isObject(value)) return report(at, `expected an object (${definition.name}) at ${at}, found ${describe(value)}`);
  for (const [key, inner] of Object.entries(value)) {
    const property = definition.properties[key];
    if (property) checkValue(property.type, inner, `${at}.${key}`, report);
    else report(at, unexpected(key, at, Object.keys(definition.properties)));
  }
  for (const [name, property] of Object.entries(definition.properties)) {
    if (property.required && !(name in value)) report(at, `'${name}' is a required property at ${at}`);
  }
}

function checkValue(type: SchemaType, value: unknown, at: string, report: Report): void {
  // A value an intrinsic function computes is known only at deploy time; CloudFormation checks it then.
  if (isIntrinsic(value) || type.type === 'json') return;
  const expected = (what: string) => report(at, `expected ${what} at ${at}, found ${describe(value)}`);
  switch (type.type) {
    case 'string':
    case 'date-time':
      // CloudFormation passes numbers and booleans where a string is expected as their text.
      if (!['string', 'number', 'boolean'].includes(typeof value)) return expected('a string');
      if (type.type === 'string' && type.allowedValues && !type.allowedValues.includes(String(value))) {
        report(at, `'${String(value)}' is not one of ${JSON.stringify(type.allowedValues)} at ${at}`);
      }
      return;
    case 'number':
    case 'integer': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || Number.isNaN(number)) return expected('a number');
      if (type.type === 'integer' && !Number.isInteger(number)) expected('an integer');
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') expected('a boolean');
      return;
    case 'null':
      if (value !== null) expected('null');
      return;
    case 'tag':
      return checkObject(TAG, value, at, report);
    case 'ref': {
      const definition = schemas().types.get(type.reference.$ref);
      if (!definition) throw new Error(`the CloudFormation schema database has no type ${type.reference.$ref} (at ${at})`);
      return checkObject(definition, value, at, report);
    }
    case 'array':
      if (!Array.isArray(value)) return expected('an array');
      return value.forEach((element, i) => checkValue(type.element, element, `${at}[${i}]`, report));
    case 'map':
      if (!isObject(value)) return expected('an object');
      return Object.entries(value).forEach(([key, element]) => checkValue(type.element, element, `${at}.${key}`, report));
    case 'union': {
      // Accepted if any member accepts it; otherwise the member that found the fewest problems speaks.
      const attempts = type.types.map((member) => {
        const found: Array<[string, string]> = [];
        checkValue(member, value, at, (where, message) => found.push([where, message]));
        return found;
      });
      if (attempts.some((found) => found.length === 0)) return;
      const fewest = attempts.reduce((best, found) => (found.length < best.length ? found : best), attempts[0] ?? []);
      return fewest.forEach(([where, message]) => report(where, message));
    }
  }
}

/** `{ Ref }`, `{ Fn::Join }`, `{ Fn::If }`…: one key, a reference or an intrinsic function. */
function isIntrinsic(value: unknown): boolean {
  const keys = isObject(value) ? Object.keys(value) : [];
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function unexpected(key: string, at: string, names: string[]): string {
  return `'${key}' was unexpected at ${at}.${suggestion(key, names)}`;
}

/** ` Did you mean 'X'?` when a name differs only in case, or by a slip of two characters at most. */
function suggestion(given: string, names: string[]): string {
  const lower = given.toLowerCase();
  let best = names.find((n) => n.toLowerCase() === lower);
  let bestDistance = 3;
  for (const name of best ? [] : names) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best ? ` Did you mean '${best}'?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
