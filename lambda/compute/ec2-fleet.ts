// The compute port over EC2: one CreateFleet `instant` call per launch, over the config's instance
// types × the subnets, spot by price-capacity-optimized, on-demand in the order the types are listed.
import {
  _InstanceType,
  CpuManufacturer, CreateFleetCommand, CreateFleetCommandInput, CreateTagsCommand, DescribeInstancesCommand, EC2Client, Filter, StartInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { LAUNCH_ENVIRONMENT } from '../../src/contracts/environment';
import {
  classifyLaunchError, ComputePort, InstanceInfo, InstanceTagRequest, LaunchedInstance, LaunchFailedError, LaunchRequest, LaunchResult, StartFailure,
  StartResult, TagResult, TAG_CONFIG, TAG_LAUNCH, TAG_MANAGED_BY, TAG_POOL, withUnofferedTypes,
} from '../core/compute';
import { Market } from '../core/runner';

export interface Ec2FleetOptions {
  readonly client: EC2Client;
  /** The value of the managed-by tag: which deployment owns an instance. */
  readonly managedBy: string;
  readonly subnetIds: readonly string[];
  /** Launch template id for a config name. */
  readonly launchTemplateFor: (configName: string) => string;
  /** Warm pool launch template id for a config name (shutdown behaviour `stop`). */
  readonly warmLaunchTemplateFor?: (configName: string) => string;
}

/** Values of one DescribeInstances filter: EC2 takes at most 200. */
const MAX_FILTER_VALUES = 200;

/** EC2 caps the overrides of one CreateFleet request; beyond this many the least preferred types are dropped. */
const MAX_OVERRIDES = 300;

export class Ec2Fleet implements ComputePort {
  constructor(private readonly options: Ec2FleetOptions) {}

  async launch(request: LaunchRequest): Promise<LaunchResult> {
    if (this.options.subnetIds.length === 0) throw new Error(`no subnets to launch into (${LAUNCH_ENVIRONMENT.subnetIds.name} is empty): redeploy the construct`);
    const input = this.createFleetInput(request);
    let output;
    try {
      output = await this.options.client.send(new CreateFleetCommand(input));
    } catch (error) {
      const code = (error as { name?: string }).name ?? 'Unknown';
      throw new LaunchFailedError(code, classifyLaunchError(code, request.market), (error as Error).message, { cause: error });
    }
    const instances: LaunchedInstance[] = [];
    for (const group of output.Instances ?? []) {
      for (const instanceId of group.InstanceIds ?? []) {
        instances.push({
          instanceId,
          instanceType: group.InstanceType,
          availabilityZone: group.LaunchTemplateAndOverrides?.Overrides?.AvailabilityZone,
          market: toMarket(group.Lifecycle, request.market),
        });
      }
    }
    const errors = (output.Errors ?? []).map((e) => {
      const code = e.ErrorCode ?? 'Unknown';
      const instanceType = e.LaunchTemplateAndOverrides?.Overrides?.InstanceType;
      return { code, message: e.ErrorMessage ?? '', kind: classifyLaunchError(code, request.market), ...(instanceType ? { instanceType } : {}) };
    });
    return withUnofferedTypes({ instances, errors }, request.instanceRequirements ? [] : request.instanceTypes);
  }

  async start(instanceIds: readonly string[]): Promise<StartResult> {
    if (instanceIds.length === 0) return { started: [], failed: [] };
    try {
      await this.options.client.send(new StartInstancesCommand({ InstanceIds: [...instanceIds] }));
      return { started: [...instanceIds], failed: [] };
    } catch (error) {
      if (!isEc2Refusal(error)) throw error;
      if (instanceIds.length === 1) return { started: [], failed: [failureOf(instanceIds[0], error)] };
    }
    // One refused instance fails the whole call (an unknown id, one in the wrong state, no capacity
    // for one type): start them one by one to tell which.
    const started: string[] = [];
    const failed: StartFailure[] = [];
    for (const id of instanceIds) {
      try {
        await this.options.client.send(new StartInstancesCommand({ InstanceIds: [id] }));
        started.push(id);
      } catch (error) {
        if (!isEc2Refusal(error)) throw error;
        failed.push(failureOf(id, error));
      }
    }
    return { started, failed };
  }

  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (let i = 0; i < instanceIds.length; i += 1000) {
      const batch = instanceIds.slice(i, i + 1000);
      try {
        await this.options.client.send(new TerminateInstancesCommand({ InstanceIds: batch }));
      } catch (error) {
        // One unknown id fails the whole call; terminate the rest one by one.
        if ((error as { name?: string }).name !== 'InvalidInstanceID.NotFound') throw error;
        for (const id of batch) {
          await this.options.client.send(new TerminateInstancesCommand({ InstanceIds: [id] })).catch((e: { name?: string }) => {
            if (e.name !== 'InvalidInstanceID.NotFound') throw e;
          });
        }
      }
    }
  }

  async listInstances(): Promise<InstanceInfo[]> {
    return this.describe([
      { Name: `tag:${TAG_MANAGED_BY}`, Values: [this.options.managedBy] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] },
    ]);
  }

  async findLaunch(clientToken: string): Promise<LaunchedInstance[]> {
    const found = await this.describe([
      { Name: `tag:${TAG_MANAGED_BY}`, Values: [this.options.managedBy] },
      { Name: `tag:${TAG_LAUNCH}`, Values: [clientToken] },
    ]);
    return found.map((i) => ({ instanceId: i.instanceId, market: i.market ?? 'spot' }));
  }

  async tagInstances(requests: readonly InstanceTagRequest[]): Promise<TagResult> {
    if (requests.length === 0) return { tagged: [], gone: [], failed: [] };
    // Launch tags are on the volumes already (CreateFleet's TagSpecifications); later ones are not
    // copied from the instance, so each call names the instance and its volumes, read here in one call.
    const volumes = await this.volumesOf(requests.map((r) => r.instanceId));
    const tagged: string[] = [];
    const gone: string[] = [];
    const failed: StartFailure[] = [];
    for (const { instanceId, tags } of requests) {
      const volumeIds = volumes.get(instanceId);
      if (volumeIds === undefined) {
        gone.push(instanceId);
        continue;
      }
      try {
        await this.options.client.send(new CreateTagsCommand({
          Resources: [instanceId, ...volumeIds],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }));
        tagged.push(instanceId);
      } catch (error) {
        if (!isEc2Refusal(error)) throw error;
        failed.push(failureOf(instanceId, error));
      }
    }
    return { tagged, gone, failed };
  }

  /** The EBS volumes attached to each of these instances that is not terminated; instances EC2 no longer lists are absent. */
  private async volumesOf(instanceIds: readonly string[]): Promise<Map<string, string[]>> {
    const volumes = new Map<string, string[]>();
    for (let start = 0; start < instanceIds.length; start += MAX_FILTER_VALUES) {
      let nextToken: string | undefined;
      do {
        const page = await this.options.client.send(new DescribeInstancesCommand({
          Filters: [
            { Name: 'instance-id', Values: instanceIds.slice(start, start + MAX_FILTER_VALUES) },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
          MaxResults: 1000,
          NextToken: nextToken,
        }));
        for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          if (!instance.InstanceId) continue;
          volumes.set(instance.InstanceId, (instance.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.VolumeId ? [m.Ebs.VolumeId] : [])));
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return volumes;
  }

  private async describe(filters: Filter[]): Promise<Array<InstanceInfo & { market?: Market }>> {
    const found: Array<InstanceInfo & { market?: Market }> = [];
    let nextToken: string | undefined;
    do {
      const page = await this.options.client.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: 1000, NextToken: nextToken }));
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (!instance.InstanceId) continue;
          const tags = Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key, t.Value]));
          found.push({
            instanceId: instance.InstanceId,
            state: instance.State?.Name ?? 'unknown',
            poolId: tags[TAG_POOL],
            launchedAt: instance.LaunchTime?.getTime(),
            market: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
          });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return found;
  }

  private templateFor(request: LaunchRequest): string {
    if (!request.warm) return this.options.launchTemplateFor(request.configName);
    if (!this.options.warmLaunchTemplateFor) throw new Error(`no warm pool launch template for runner config '${request.configName}': redeploy the construct`);
    return this.options.warmLaunchTemplateFor(request.configName);
  }

  private createFleetInput(request: LaunchRequest): CreateFleetCommandInput {
    const requirements = request.instanceRequirements;
    // An AMI in the overrides (instant fleets only) replaces the launch template's: the templates
    // name no image, so they deploy before the first image exists.
    const image = request.imageId ? { ImageId: request.imageId } : {};
    const overrides = requirements
      // Attribute-based: EC2 chooses among every type within the ranges, per subnet.
      ? this.options.subnetIds.map((subnetId) => ({
        SubnetId: subnetId,
        ...image,
        InstanceRequirements: {
          VCpuCount: { Min: requirements.vCpuMin, Max: requirements.vCpuMax },
          MemoryMiB: { Min: requirements.memoryMiBMin, Max: requirements.memoryMiBMax },
          // The image fixes the architecture: Graviton for arm64, Intel or AMD for x64.
          CpuManufacturers: (request.architecture === 'arm64' ? ['amazon-web-services'] : ['intel', 'amd']) as CpuManufacturer[],
        },
      })).slice(0, MAX_OVERRIDES)
      : request.instanceTypes.flatMap((instanceType, priority) =>
        this.options.subnetIds.map((subnetId) => ({ InstanceType: instanceType as _InstanceType, SubnetId: subnetId, Priority: priority, ...image })),
      ).slice(0, MAX_OVERRIDES);
    const tags = [
      { Key: TAG_MANAGED_BY, Value: this.options.managedBy },
      { Key: TAG_POOL, Value: request.poolId },
      { Key: TAG_CONFIG, Value: request.configName },
      { Key: TAG_LAUNCH, Value: request.clientToken },
      { Key: 'Name', Value: `ephemeral-runner ${request.configName}` },
    ];
    const spot = request.market === 'spot';
    return {
      Type: 'instant',
      ClientToken: request.clientToken,
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: this.templateFor(request), Version: '$Latest' },
        Overrides: overrides,
      }],
      TargetCapacitySpecification: {
        TotalTargetCapacity: request.count,
        DefaultTargetCapacityType: spot ? 'spot' : 'on-demand',
        ...(spot ? { SpotTargetCapacity: request.count } : { OnDemandTargetCapacity: request.count }),
      },
      SpotOptions: { AllocationStrategy: 'price-capacity-optimized' },
      // Priorities order a list of types; EC2 refuses them with attribute-based selection.
      OnDemandOptions: { AllocationStrategy: requirements ? 'lowest-price' : 'prioritized' },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
        { ResourceType: 'fleet', Tags: tags },
      ],
    };
  }
}

/**
 * An error EC2 answered (a code and an HTTP status), as opposed to no answer at all. Capacity
 * errors such as InsufficientInstanceCapacity are server errors (5xx) in EC2's list
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html), so any status counts.
 */
function isEc2Refusal(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return typeof e.name === 'string' && e.$metadata?.httpStatusCode !== undefined;
}

function failureOf(instanceId: string, error: unknown): StartFailure {
  const e = error as { name?: string; message?: string };
  return { instanceId, code: e.name ?? 'Unknown', message: e.message ?? '' };
}

function toMarket(lifecycle: string | undefined, requested: Market): Market {
  if (lifecycle === 'spot') return 'spot';
  if (lifecycle === 'on-demand') return 'on-demand';
  return requested;
}
