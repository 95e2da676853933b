// Simulator records as EC2 XML structures, with the element names the SDK's model expects
// (`instanceState` for State, `tagSet` for Tags, `dnsName` for PublicDnsName …, reference/aws.md 2.1).
import { LaunchConfigRequest, OverrideRequest } from './fleet-request';
import { InstanceRecord } from './instances';
import { InstanceStateName, STATE_CODES, SubnetInfo, Tags } from './types';
import { XmlObject, XmlValue } from './xml';

export function renderTags(tags: Tags): XmlValue[] {
  return [...tags].map(([key, value]) => ({ key, value }));
}

export function renderState(state: InstanceStateName): XmlObject {
  return { code: STATE_CODES[state], name: state };
}

export function renderInstance(i: InstanceRecord): XmlObject {
  const lt = i.launchTemplate.data;
  const ipSuffix = i.privateIpAddress.replace(/\./g, '-');
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: renderState(i.state),
    privateDnsName: i.state === 'terminated' ? '' : `ip-${ipSuffix}.ec2.internal`,
    dnsName: '',
    reason: i.stateTransitionReason,
    amiLaunchIndex: i.amiLaunchIndex,
    productCodes: [],
    instanceType: i.instanceType,
    launchTime: new Date(i.launchTime),
    placement: { availabilityZone: i.availabilityZone, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: i.state === 'terminated' ? undefined : i.subnetId,
    vpcId: i.state === 'terminated' ? undefined : i.vpcId,
    privateIpAddress: i.state === 'terminated' ? undefined : i.privateIpAddress,
    groupSet: [],
    stateReason: i.stateReason ? { code: i.stateReason.code, message: i.stateReason.message } : undefined,
    architecture: i.architecture,
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping: [],
    // No `on-demand` value exists for instanceLifecycle: on-demand instances omit it (reference/aws.md 2.1).
    instanceLifecycle: i.market === 'spot' ? 'spot' : undefined,
    spotInstanceRequestId: i.spotInstanceRequestId,
    virtualizationType: 'hvm',
    clientToken: i.clientToken,
    tagSet: renderTags(i.tags),
    hypervisor: 'xen',
    iamInstanceProfile: lt.iamInstanceProfile
      ? { arn: lt.iamInstanceProfile.arn, id: `AIPA${i.launchTemplate.launchTemplateId.slice(3, 20).toUpperCase()}` }
      : undefined,
    ebsOptimized: true,
    enaSupport: true,
    metadataOptions: {
      state: i.state === 'pending' ? 'pending' : 'applied',
      httpTokens: lt.metadataOptions.httpTokens,
      httpPutResponseHopLimit: lt.metadataOptions.httpPutResponseHopLimit,
      httpEndpoint: lt.metadataOptions.httpEndpoint,
      instanceMetadataTags: lt.metadataOptions.instanceMetadataTags,
    },
  };
}

/** `launchTemplateAndOverrides` echoing a config and override; `pool` fills in the pool that was tried. */
export function renderLaunchTemplateAndOverrides(
  config: LaunchConfigRequest,
  override: OverrideRequest,
  pool?: { instanceType?: string; subnet?: SubnetInfo },
): XmlObject {
  const req = override.instanceRequirements;
  return {
    launchTemplateSpecification: {
      launchTemplateId: config.template.launchTemplateId,
      launchTemplateName: config.byName ? config.template.launchTemplateName : undefined,
      version: String(config.template.versionNumber),
    },
    overrides: {
      instanceType: override.instanceType ?? pool?.instanceType,
      maxPrice: override.maxPrice,
      subnetId: override.subnetId ?? pool?.subnet?.subnetId,
      availabilityZone: override.availabilityZone ?? pool?.subnet?.availabilityZone,
      weightedCapacity: override.weightedCapacity,
      priority: override.priority,
      instanceRequirements: req
        ? {
          vCpuCount: { min: req.vCpuCount.min, max: req.vCpuCount.max },
          memoryMiB: { min: req.memoryMiB.min, max: req.memoryMiB.max },
          allowedInstanceTypeSet: req.allowedInstanceTypes.length > 0 ? req.allowedInstanceTypes : undefined,
          excludedInstanceTypeSet: req.excludedInstanceTypes.length > 0 ? req.excludedInstanceTypes : undefined,
        }
        : undefined,
      imageId: override.imageId,
    },
  };
}
