// What a runner config may set for its own instances instead of the deployment's shared value
// (image, root volume, security groups, subnets, instance role policies, metadata tags), and how the
// fleet turns each into launch template settings.
import { Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { hasOwnRole, RunnerConfig } from '../runner-config';
import { settleRootVolume, validateRootVolume } from './root-volume-limits';

/** A config's overrides; whatever is unset is the deployment's. */
export type RunnerConfigOverrides = Pick<RunnerConfig,
'machineImage' | 'rootVolume' | 'securityGroups' | 'subnets' | 'managedPolicies' | 'rolePolicyStatements' | 'instanceMetadataTags' | 'debug'>;

/** The overrides of the configs that set any, by config name. */
export function overridesOf(configs: readonly RunnerConfig[]): Record<string, RunnerConfigOverrides> {
  const entries = configs.map((c): [string, RunnerConfigOverrides] => [c.name, {
    machineImage: c.machineImage,
    rootVolume: c.rootVolume,
    securityGroups: c.securityGroups,
    subnets: c.subnets,
    managedPolicies: c.managedPolicies,
    rolePolicyStatements: c.rolePolicyStatements,
    instanceMetadataTags: c.instanceMetadataTags,
    // Only Session Manager changes the instances (their role); the runner's logs are a bootstrap setting.
    debug: c.debug?.sessionManager === true ? c.debug : undefined,
  }]);
  return Object.fromEntries(entries.filter(([, o]) => Object.values(o).some((v) => v !== undefined)));
}

/** Whether the config's instances get a role of their own. */
export function ownRole(overrides: RunnerConfigOverrides | undefined): boolean {
  return overrides !== undefined && hasOwnRole({ name: '', labels: [], ...overrides });
}

/**
 * The root volume of a config's instances: encrypted, deleted with the instance, gp3 of the
 * deployment's size unless the config says otherwise. A volume with problems (reported by the
 * config validation) falls back to the shared one, so that aws-cdk-lib's own checks do not end the
 * synth before every problem is listed.
 */
export function rootVolume(overrides: RunnerConfigOverrides | undefined, sharedSize: Size): ec2.BlockDeviceVolume {
  const shared = () => ec2.BlockDeviceVolume.ebs(sharedSize.toGibibytes(), {
    volumeType: ec2.EbsDeviceVolumeType.GP3,
    encrypted: true,
    deleteOnTermination: true,
  });
  const own = overrides?.rootVolume;
  if (!own || validateRootVolume('', own, sharedSize).length > 0) return shared();
  const settled = settleRootVolume(own, sharedSize);
  return ec2.BlockDeviceVolume.ebs(settled.sizeGiB!, {
    // RunnerVolumeType's values are EBS's type names, as EbsDeviceVolumeType's are.
    volumeType: settled.volumeType as string as ec2.EbsDeviceVolumeType,
    ...(settled.iops !== undefined ? { iops: settled.iops } : {}),
    ...(settled.throughput !== undefined ? { throughput: settled.throughput } : {}),
    encrypted: true,
    deleteOnTermination: true,
  });
}

/**
 * The subnets a config's selection picks in the deployment's VPC, or the problem: none picked, a
 * selection the VPC cannot answer (a subnet type it has none of), or subnets of another VPC.
 */
export function configSubnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection, who: string): string[] | string {
  let selected: ec2.SelectedSubnets;
  try {
    selected = vpc.selectSubnets(selection);
  } catch (e) {
    return `${who}: subnets selects nothing in the deployment's VPC (${(e as Error).message}); select subnets of that VPC, e.g. { subnetGroupName: 'database' }.`;
  }
  if (selected.subnetIds.length === 0) {
    return `${who}: subnets selects no subnet of the deployment's VPC; select at least one, or leave subnets out for the deployment's.`;
  }
  const known = new Set([...vpc.publicSubnets, ...vpc.privateSubnets, ...vpc.isolatedSubnets].map((s) => s.subnetId));
  const foreign = known.size === 0 ? [] : selected.subnetIds.filter((id) => !known.has(id));
  if (foreign.length > 0) {
    return `${who}: subnets ${JSON.stringify(foreign)} are not subnets of the deployment's VPC; runners launch into that VPC only: select among its subnets.`;
  }
  return selected.subnetIds;
}
