// CloudFormation's resource schemas, as AWS publishes them: a synthesized template checked the way
// CloudFormation checks it before it creates anything. The schemas come from
// @aws-cdk/aws-service-spec (its db.json.gz, the database aws-cdk-lib's L1 classes are built
// from), not from this project, so a key CDK lets through untyped (a Json property) is still
// checked against what CloudFormation defines for it.
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

interface SchemaProperty {
  readonly type: SchemaType;
  readonly required?: boolean;
}

interface Definition {
  readonly name: string;
  readonly properties: Record<string, SchemaProperty>;
}

interface Schemas {
  readonly resources: Map<string, Definition>;
  readonly types: Map<string, Definition>;
}

/** One problem CloudFormation would refuse the template for. */
export interface SchemaFinding {
  readonly logicalId: string;
  /** Where in the template, e.g. `Resources.X.Properties.Distributions[0]`. */
  readonly path: string;
  readonly message: string;
}

/**
 * The resource types CloudFormation accepts though no schema describes their properties: CDK's
 * version-reporting resource, and custom resources (their properties go to their provider).
 */
const UNSCHEMATIZED = new Set(['AWS::CDK::Metadata']);
const CUSTOM_RESOURCE = /^(Custom::[A-Za-z0-9_@-]{1,60}|AWS::CloudFormation::CustomResource)$/;

/** The attributes a resource entry may have beside `Type` and `Properties` (template anatomy). */
const RESOURCE_ATTRIBUTES = new Set([
  'Type', 'Properties', 'DependsOn', 'Metadata', 'Condition', 'DeletionPolicy', 'UpdateReplacePolicy', 'UpdatePolicy', 'CreationPolicy',
]);

let cached: Schemas | undefined;

/** The schemas, read once per process (the database is 2.5 MB compressed; parsing takes a third of a second). */
function schemas(): Schemas {
  if (cached) return cached;
  const file = path.join(path.dirname(require.resolve('@aws-cdk/aws-service-spec/package.json')), 'db.json.gz');
  const db = JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8')) as {
    schema: {
      resource: { entities: Array<Definition & { cloudFormationType: string }> };
      typeDefinition: { entities: Array<Definition & { $id: string }> };
    };
  };
  cached = {
    resources: new Map(db.schema.resource.entities.map((r) => [r.cloudFormationType, r])),
    types: new Map(db.schema.typeDefinition.entities.map((t) => [t.$id, t])),
  };
  return cached;
}

/** Checks every resource of a synthesized template against its CloudFormation resource schema. */
export function validateTemplate(template: { Resources?: Record<string, unknown> }): SchemaFinding[] {
  const findings: SchemaFinding[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const at = `Resources.${logicalId}`;
    const report = (where: string, message: string) => findings.push({ logicalId, path: where, message: `${message}` });
    if (!isObject(resource)) {
      report(at, `a resource must be an object at ${at}`);
      continue;
    }
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_ATTRIBUTES.has(key)) report(at, unexpected(key, at, [...RESOURCE_ATTRIBUTES]));
    }
    const type = resource.Type;
    if (typeof type !== 'string') {
      report(at, `'Type' is a required property at ${at}`);
      continue;
    }
    if (UNSCHEMATIZED.has(type)) continue;
    const properties = resource.Properties ?? {};
    const propertiesAt = `${at}.Properties`;
    if (CUSTOM_RESOURCE.test(type)) {
      if (!isObject(properties) || properties.ServiceToken === undefined) report(propertiesAt, `'ServiceToken' is a required property at ${propertiesAt}`);
      continue;
    }
    const definition = schemas().resources.get(type);
    if (!definition) {
      report(at, `'${type}' is not a CloudFormation resource type at ${at}.Type.${suggestion(type, [...schemas().resources.keys()])}`);
      continue;
    }
    if (isIntrinsic(properties)) continue;
    checkObject(definition, properties, propertiesAt, (where, message) => report(where, message));
  }
  return findings;
}

/** The findings as one line each, for a test's `toEqual([])` or an error message. */
export function formatFindings(findings: SchemaFinding[]): string[] {
  return findings.map((f) => f.message);
}

type Report = (path: string, message: string) => void;

function checkObject(definition: Definition, value: unknown, at: string, report: Report): void {
  if (!isObject(value)) {
    report(at, `expected an object (${definition.name}) at ${at}, found ${describe(value)}`);
    return;
  }
  const names = Object.keys(definition.properties);
  for (const [key, inner] of Object.entries(value)) {
    const property = definition.properties[key];
    if (!property) {
      report(at, unexpected(key, at, names));
      continue;
    }
    checkValue(property.type, inner, `${at}.${key}`, report);
  }
  for (const [name, property] of Object.entries(definition.properties)) {
    if (property.required && !(name in value)) report(at, `'${name}' is a required property at ${at}`);
  }
}

function checkValue(type: SchemaType, value: unknown, at: string, report: Report): void {
  // A value an intrinsic function computes is known only at deploy time; CloudFormation checks it then.
  if (isIntrinsic(value)) return;
  switch (type.type) {
    case 'json':
      return;
    case 'string':
    case 'date-time':
      // CloudFormation passes numbers and booleans where a string is expected as their text.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        if (type.type === 'string' && type.allowedValues && !type.allowedValues.includes(String(value))) {
          report(at, `'${String(value)}' is not one of ${JSON.stringify(type.allowedValues)} at ${at}`);
        }
        return;
      }
      return report(at, `expected a string at ${at}, found ${describe(value)}`);
    case 'number':
    case 'integer': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || Number.isNaN(number)) return report(at, `expected a number at ${at}, found ${describe(value)}`);
      if (type.type === 'integer' && !Number.isInteger(number)) report(at, `expected an integer at ${at}, found ${describe(value)}`);
      return;
    }
    case 'boolean':
      if (typeof value === 'boolean' || value === 'true' || value === 'false') return;
      return report(at, `expected a boolean at ${at}, found ${describe(value)}`);
    case 'null':
      if (value !== null) report(at, `expected null at ${at}, found ${describe(value)}`);
      return;
    case 'tag':
      return checkObject(TAG, value, at, report);
    case 'ref': {
      const definition = schemas().types.get(type.reference.$ref);
      if (!definition) throw new Error(`the CloudFormation schema database has no type ${type.reference.$ref} (at ${at})`);
      return checkObject(definition, value, at, report);
    }
    case 'array':
      if (!Array.isArray(value)) return report(at, `expected an array at ${at}, found ${describe(value)}`);
      value.forEach((element, i) => checkValue(type.element, element, `${at}[${i}]`, report));
      return;
    case 'map':
      if (!isObject(value)) return report(at, `expected an object at ${at}, found ${describe(value)}`);
      for (const [key, element] of Object.entries(value)) checkValue(type.element, element, `${at}.${key}`, report);
      return;
    case 'union': {
      // Accepted if any member accepts it; otherwise the member that found the fewest problems speaks.
      let best: Array<[string, string]> | undefined;
      for (const member of type.types) {
        const found: Array<[string, string]> = [];
        checkValue(member, value, at, (where, message) => found.push([where, message]));
        if (found.length === 0) return;
        if (!best || found.length < best.length) best = found;
      }
      for (const [where, message] of best ?? []) report(where, message);
      return;
    }
  }
}

/** The legacy tag type (`{ Key, Value }`), not a type definition of the database. */
const TAG: Definition = {
  name: 'Tag',
  properties: { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } },
};

/** `{ Ref }`, `{ Fn::Join }`, `{ Fn::If }`…: one key, a reference or an intrinsic function. */
function isIntrinsic(value: unknown): boolean {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function unexpected(key: string, at: string, names: string[]): string {
  return `'${key}' was unexpected at ${at}.${suggestion(key, names)}`;
}

/** ` Did you mean 'X'?` when a name differs only in case, or by a slip of two characters at most. */
function suggestion(given: string, names: string[]): string {
  const sameLetters = names.find((n) => n.toLowerCase() === given.toLowerCase());
  if (sameLetters) return ` Did you mean '${sameLetters}'?`;
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(given.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best ? ` Did you mean '${best.name}'?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
