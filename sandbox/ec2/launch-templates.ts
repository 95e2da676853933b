// The launch templates CreateFleet may name. Registered programmatically (the sandbox mirrors what
// the CDK stack would create); each registration or new version is immutable, like EC2's.
import { apiErrors, Ec2ApiError, Ec2SimulatorConfigError } from './errors';
import { IdGenerator } from './ids';
import { IamInstanceProfile, MetadataOptions, ShutdownBehavior } from './types';

export interface LaunchTemplateData {
  readonly imageId?: string;
  readonly instanceType?: string;
  /** The user data as plain text (EC2 stores it base64-encoded; IMDS and the boot hook give it back decoded). */
  readonly userData?: string;
  /** @default 'stop' - EC2's default, so a template that forgets `terminate` leaks stopped instances */
  readonly instanceInitiatedShutdownBehavior?: ShutdownBehavior;
  readonly iamInstanceProfile?: IamInstanceProfile;
  /** @default httpTokens 'required', httpEndpoint 'enabled', hop limit 1, instanceMetadataTags 'disabled' */
  readonly metadataOptions?: Partial<MetadataOptions>;
  /** Tags the template's TagSpecifications put on instances. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Tags the template's TagSpecifications put on volumes (IAM sees them as request tags). */
  readonly volumeTags?: Readonly<Record<string, string>>;
  /** The template's security groups (what RunInstances is authorized on). */
  readonly securityGroupIds?: readonly string[];
}

export interface LaunchTemplateRegistration extends LaunchTemplateData {
  readonly launchTemplateName: string;
  /** @default a generated `lt-…` id */
  readonly launchTemplateId?: string;
}

/** One resolved version of a template, what an instance is launched from. */
export interface LaunchTemplateVersion {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly versionNumber: number;
  readonly data: Required<Pick<LaunchTemplateData, 'instanceInitiatedShutdownBehavior'>> &
  Omit<LaunchTemplateData, 'instanceInitiatedShutdownBehavior' | 'metadataOptions'> & { readonly metadataOptions: MetadataOptions };
}

interface TemplateEntry {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly versions: LaunchTemplateVersion[];
  defaultVersion: number;
}

/** 16 KB of user data before base64 encoding. */
export const MAX_USER_DATA_BYTES = 16 * 1024;

const DEFAULT_METADATA: MetadataOptions = {
  httpTokens: 'required',
  httpEndpoint: 'enabled',
  httpPutResponseHopLimit: 1,
  instanceMetadataTags: 'disabled',
};

export class LaunchTemplateRegistry {
  private readonly byId = new Map<string, TemplateEntry>();

  constructor(private readonly ids: IdGenerator) {}

  /** Registers a template with version 1 as its default and latest version. */
  register(registration: LaunchTemplateRegistration): LaunchTemplateVersion {
    const { launchTemplateName, launchTemplateId = this.ids.launchTemplateId(), ...data } = registration;
    if (!/^lt-[0-9a-f]{8,17}$/.test(launchTemplateId)) {
      throw new Ec2SimulatorConfigError(`launch template id ${launchTemplateId} is not in EC2's format lt-<17 hex digits>`);
    }
    checkUserData(data);
    if (this.byId.has(launchTemplateId) || this.findByName(launchTemplateName)) {
      throw new Ec2SimulatorConfigError(
        `a launch template ${launchTemplateId} or named ${launchTemplateName} is already registered; add a version instead`);
    }
    const entry: TemplateEntry = { launchTemplateId, launchTemplateName, versions: [], defaultVersion: 1 };
    this.byId.set(launchTemplateId, entry);
    return this.addVersion(entry, data);
  }

  /** Adds a version (the new latest); the default version moves only when asked, as in EC2. */
  createVersion(idOrName: string, data: LaunchTemplateData, options: { makeDefault?: boolean } = {}): LaunchTemplateVersion {
    const entry = this.byId.get(idOrName) ?? this.findByName(idOrName);
    if (!entry) throw new Ec2SimulatorConfigError(`no launch template ${idOrName} is registered`);
    checkUserData(data);
    const version = this.addVersion(entry, data);
    if (options.makeDefault) entry.defaultVersion = version.versionNumber;
    return version;
  }

  /**
   * Resolves a CreateFleet `LaunchTemplateSpecification` or throws the request-level error EC2 gives.
   * Note the two not-found codes are spelled differently (reference/aws.md 1.7).
   */
  resolve(spec: { launchTemplateId?: string; launchTemplateName?: string; version?: string }): LaunchTemplateVersion {
    let entry: TemplateEntry | undefined;
    if (spec.launchTemplateId !== undefined && spec.launchTemplateName !== undefined) {
      throw apiErrors.invalidParameterCombination('A launch template ID and a launch template name cannot be specified in the same request.');
    } else if (spec.launchTemplateId !== undefined) {
      if (!/^lt-[0-9a-f]{8,17}$/.test(spec.launchTemplateId)) {
        throw new Ec2ApiError('InvalidLaunchTemplateId.Malformed',
          `The specified ID for the launch template is malformed: ${spec.launchTemplateId}`);
      }
      entry = this.byId.get(spec.launchTemplateId);
      if (!entry) {
        throw new Ec2ApiError('InvalidLaunchTemplateId.NotFound',
          `The specified launch template, with template ID ${spec.launchTemplateId}, does not exist.`);
      }
    } else if (spec.launchTemplateName !== undefined) {
      entry = this.findByName(spec.launchTemplateName);
      if (!entry) {
        throw new Ec2ApiError('InvalidLaunchTemplateName.NotFoundException',
          `The specified launch template, with template name ${spec.launchTemplateName}, does not exist.`);
      }
    } else {
      throw apiErrors.missingParameter('LaunchTemplateSpecification.LaunchTemplateId or LaunchTemplateName');
    }
    // The API reference says a fleet's launch template version must be given ("otherwise the request fails").
    if (spec.version === undefined) throw apiErrors.missingParameter('LaunchTemplateSpecification.Version');
    const number = spec.version === '$Latest' ? entry.versions.length
      : spec.version === '$Default' ? entry.defaultVersion
        : /^[0-9]+$/.test(spec.version) ? Number(spec.version) : NaN;
    const version = entry.versions[number - 1];
    if (!version) {
      throw new Ec2ApiError('InvalidLaunchTemplateId.VersionNotFound',
        `Could not find launch template version ${spec.version} for launch template ID ${entry.launchTemplateId}.`);
    }
    return version;
  }

  private findByName(name: string): TemplateEntry | undefined {
    return [...this.byId.values()].find((e) => e.launchTemplateName === name);
  }

  private addVersion(entry: TemplateEntry, data: LaunchTemplateData): LaunchTemplateVersion {
    const version: LaunchTemplateVersion = {
      launchTemplateId: entry.launchTemplateId,
      launchTemplateName: entry.launchTemplateName,
      versionNumber: entry.versions.length + 1,
      data: {
        ...data,
        instanceInitiatedShutdownBehavior: data.instanceInitiatedShutdownBehavior ?? 'stop',
        metadataOptions: { ...DEFAULT_METADATA, ...data.metadataOptions },
      },
    };
    entry.versions.push(version);
    return version;
  }
}

/**
 * "User data is limited to 16 KB, in raw form, before it is base64-encoded"
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html); EC2's answer
 * as quoted in kubermatic #144 and supergiant/capacity #148. Checked when a template or version is
 * created, so an oversized template never exists to launch from.
 */
function checkUserData(data: LaunchTemplateData): void {
  if (data.userData !== undefined && Buffer.byteLength(data.userData, 'utf8') > MAX_USER_DATA_BYTES) {
    throw apiErrors.invalidParameterValue(`User data is limited to ${MAX_USER_DATA_BYTES} bytes`);
  }
}
