// The launch templates CreateFleet may name, registered programmatically as the CDK stack would create them; each is version 1,
// its default and latest version.
import { Ec2SimulatorError, IamInstanceProfile, IdGenerator, MetadataOptions } from './types';
import { apiErrors, Ec2ApiError } from './wire';

export interface LaunchTemplateRegistration {
  readonly launchTemplateName: string;
  /** @default a generated `lt-…` id */
  readonly launchTemplateId?: string;
  readonly imageId?: string;
  readonly instanceType?: string;
  /** The user data as plain text (EC2 stores it base64-encoded; IMDS and the boot hook give it back decoded). */
  readonly userData?: string;
  /** @default 'stop' - EC2's default, so a template that forgets `terminate` leaks stopped instances */
  readonly instanceInitiatedShutdownBehavior?: 'terminate' | 'stop';
  readonly iamInstanceProfile?: IamInstanceProfile;
  /** @default httpTokens 'required', httpEndpoint 'enabled', hop limit 1, instanceMetadataTags 'disabled' */
  readonly metadataOptions?: Partial<MetadataOptions>;
  /** Tags the template's TagSpecifications put on instances. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Tags the template's TagSpecifications put on volumes (IAM sees them as request tags). */
  readonly volumeTags?: Readonly<Record<string, string>>;
  /** The template's security groups (what RunInstances is authorized on). */
  readonly securityGroupIds?: readonly string[];
  /** EBS volumes by device; the one at the AMI's root device (`/dev/sda1` for the simulator's images) is the root volume. @default none: the AMI's 8 GiB */
  readonly blockDeviceMappings?: readonly BlockDeviceMapping[];
  /** `HibernationOptions.Configured`: whether StopInstances may hibernate instances launched from the template. @default false */
  readonly hibernationConfigured?: boolean;
}

/** An EBS mapping as the template has it: size, type, and the IOPS and throughput provisioned (gp3, io1, io2). */
export type BlockDeviceMapping = Readonly<{ deviceName: string; volumeSizeGiB?: number; volumeType?: string; iops?: number; throughput?: number }>;

/** The root device of every image the simulator registers (DescribeImages' `rootDeviceName`). */
export const ROOT_DEVICE_NAME = '/dev/sda1';
/** The size of an AMI's root snapshot when the template does not set one: Amazon Linux's 8 GiB [I]. */
const DEFAULT_ROOT_VOLUME_GIB = 8;

/** The root volume's size of instances launched from the template. */
export function rootVolumeGiB(template: LaunchTemplateVersion): number {
  return template.data.blockDeviceMappings?.find((m) => m.deviceName === ROOT_DEVICE_NAME)?.volumeSizeGiB ?? DEFAULT_ROOT_VOLUME_GIB;
}

/** One resolved version of a template, what an instance is launched from. */
export type LaunchTemplateVersion = Readonly<{ launchTemplateId: string; launchTemplateName: string; versionNumber: number; data: TemplateData }>;
type TemplateData = Omit<LaunchTemplateRegistration, 'launchTemplateName' | 'launchTemplateId'> &
  Readonly<{ instanceInitiatedShutdownBehavior: 'terminate' | 'stop'; metadataOptions: MetadataOptions }>;

/** 16 KB of user data before base64 encoding. */
export const MAX_USER_DATA_BYTES = 16 * 1024;

const TEMPLATE_ID = /^lt-[0-9a-f]{8,17}$/;

export class LaunchTemplateRegistry {
  private readonly templates: LaunchTemplateVersion[] = [];

  constructor(private readonly ids: IdGenerator) {}

  register(registration: LaunchTemplateRegistration): LaunchTemplateVersion {
    const { launchTemplateName, launchTemplateId = this.ids.resourceId('lt-'), ...data } = registration;
    if (!TEMPLATE_ID.test(launchTemplateId)) throw new Ec2SimulatorError(`launch template id ${launchTemplateId} is not in EC2's format lt-<17 hex digits>`);
    // "User data is limited to 16 KB, in raw form, before it is base64-encoded"
    // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html); EC2's
    // answer as quoted in kubermatic #144 and supergiant/capacity #148.
    if (Buffer.byteLength(data.userData ?? '', 'utf8') > MAX_USER_DATA_BYTES) throw apiErrors.invalidParameterValue(`User data is limited to ${MAX_USER_DATA_BYTES} bytes`);
    if (this.templates.some((t) => t.launchTemplateId === launchTemplateId || t.launchTemplateName === launchTemplateName)) {
      throw new Ec2SimulatorError(`a launch template ${launchTemplateId} or named ${launchTemplateName} is already registered`);
    }
    const metadataOptions: MetadataOptions = { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled', ...data.metadataOptions };
    const instanceInitiatedShutdownBehavior = data.instanceInitiatedShutdownBehavior ?? 'stop';
    const version = { launchTemplateId, launchTemplateName, versionNumber: 1, data: { ...data, instanceInitiatedShutdownBehavior, metadataOptions } };
    this.templates.push(version);
    return version;
  }

  /** Resolves a CreateFleet `LaunchTemplateSpecification` by id, or throws EC2's request-level error (reference/aws.md 1.7). */
  resolve(id: string | undefined, version: string | undefined): LaunchTemplateVersion {
    if (id === undefined) throw apiErrors.missingParameter('LaunchTemplateSpecification.LaunchTemplateId');
    if (!TEMPLATE_ID.test(id)) throw new Ec2ApiError('InvalidLaunchTemplateId.Malformed', `The specified ID for the launch template is malformed: ${id}`);
    const template = this.templates.find((t) => t.launchTemplateId === id);
    if (!template) throw new Ec2ApiError('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${id}, does not exist.`);
    // The API reference says a fleet's launch template version must be given ("otherwise the request fails").
    if (version === undefined) throw apiErrors.missingParameter('LaunchTemplateSpecification.Version');
    if (!['$Latest', '$Default', '1'].includes(version)) {
      throw new Ec2ApiError('InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${version} for launch template ID ${id}.`);
    }
    return template;
  }
}
