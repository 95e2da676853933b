// What `cdk deploy` would create, read from the synthesized template: the sandbox synthesizes the
// real EphemeralRunners construct with the scenario's runner configs and takes the functions'
// environment, the SSM parameters, the launch templates and the event wiring from that template,
// so it cannot drift from a real deployment.
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EndpointAccess, EphemeralRunners, RunnerArchitecture, SpotStrategy } from '../src';
import type { Scenario } from './scenario';
import { instanceTypeArchitecture } from '../src/instance-type-name';

type Json = Record<string, unknown>;

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Json;
}

export interface SynthesizedDeployment {
  readonly resources: Record<string, CfnResource>;
  readonly outputs: Record<string, { Value: unknown }>;
  /** Logical id of each function, by its handler entry (webhook, provisioner, register, lifecycle, reconciler). */
  readonly functions: Record<string, string>;
}

export const GITHUB_HOST = 'ghes.sandbox.internal';

/** Synthesizes the construct the way a user's app would, with the scenario's runner configs. */
export function synthesizeDeployment(scenario: Scenario): SynthesizedDeployment {
  const app = new App();
  const stack = new Stack(app, 'EphemeralRunnersSandbox');
  const isolated = scenario.network === 'private';
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 3, natGateways: 0, subnetConfiguration: [{ name: 'runners', subnetType: isolated ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PUBLIC }],
  });
  new EphemeralRunners(stack, 'Runners', {
    github: { url: `https://${GITHUB_HOST}`, appId: '1' },
    vpc,
    ...(isolated ? {
      webhookAccess: EndpointAccess.privateApi(),
      registerAccess: EndpointAccess.privateApi(),
      controlPlaneSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    } : {}),
    runnerConfigs: scenario.runnerConfigs.map((c) => ({
      name: c.name,
      labels: c.labels,
      instanceTypes: c.instanceTypes,
      // Scenarios name instance types only; arm64 types (aws-cdk-lib's InstanceType.architecture) make an arm64 config.
      architecture: c.instanceTypes.some((t) => instanceTypeArchitecture(t) === 'arm64') ? RunnerArchitecture.ARM64 : RunnerArchitecture.X64,
      spot: SpotStrategy[c.spot],
      maxRunners: c.maxRunners,
    })),
  });
  type Template = { Resources: Record<string, CfnResource>; Outputs: Record<string, { Value: unknown }> };
  const template = app.synth().getStackByName(stack.stackName).template as Template;
  const functions: Record<string, string> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const env = ((resource.Properties.Environment as Json | undefined)?.Variables ?? {}) as Json;
    if (typeof env.POWERTOOLS_SERVICE_NAME === 'string') functions[env.POWERTOOLS_SERVICE_NAME] = id;
  }
  return { resources: template.Resources, outputs: template.Outputs, functions };
}

/** Resolves the intrinsic functions the template uses, from the physical ids the sandbox assigned. */
export class TemplateResolver {
  constructor(
    private readonly refs: Record<string, string>,
    private readonly pseudo: { region: string; accountId: string },
    /** Values of `Fn::GetAtt` that matter as themselves (a Function URL), by logical id. */
    private readonly attributes: Record<string, string> = {},
  ) {}

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (typeof value !== 'object' || value === null) return value;
    const v = value as Json;
    if ('Ref' in v) return this.ref(String(v.Ref));
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return (parts as unknown[]).map((p) => String(this.resolve(p))).join(separator);
    }
    if ('Fn::GetAtt' in v) {
      const [id, attribute] = v['Fn::GetAtt'] as [string, string];
      if (this.attributes[id] !== undefined) return this.attributes[id];
      return `arn:aws:sandbox:${this.pseudo.region}:${this.pseudo.accountId}:${id}/${attribute}:${this.ref(id)}`;
    }
    if ('Fn::Base64' in v) return Buffer.from(String(this.resolve(v['Fn::Base64']))).toString('base64');
    if ('Fn::Select' in v) {
      const [index, list] = v['Fn::Select'] as [number, unknown];
      return (this.resolve(list) as unknown[])[index];
    }
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, this.resolve(inner)]));
  }

  /** A string value; throws naming what could not be resolved. */
  string(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`expected a string from ${JSON.stringify(value)}, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  private ref(id: string): string {
    switch (id) {
      case 'AWS::Region': return this.pseudo.region;
      case 'AWS::AccountId': return this.pseudo.accountId;
      case 'AWS::Partition': return 'aws';
      case 'AWS::URLSuffix': return 'amazonaws.com';
      default: {
        const physical = this.refs[id];
        if (physical === undefined) throw new Error(`the sandbox has no physical id for ${id}: wire it in sandbox/system.ts`);
        return physical;
      }
    }
  }
}
