// DescribeInstances and TerminateInstances over the simulated instances, with EC2's validation: a
// bad id fails the whole call, MaxResults excludes InstanceId.N, pages by NextToken; and their XML
// with the element names the SDK's model expects (`instanceState`, `tagSet` …, reference/aws.md 2).
import { createHash } from 'crypto';
import { InstanceLifecycle, InstanceRecord } from './instances';
import { InstanceStateName, STATE_CODES } from './types';
import { apiErrors, Ec2ApiError, QueryParams, XmlObject } from './wire';

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** The DescribeInstances filters the simulator models (reference/aws.md 2.1), besides `tag:KEY`. */
const FILTERS: Record<string, (i: InstanceRecord) => readonly (string | undefined)[]> = {
  'instance-id': (i) => [i.instanceId],
  'instance-state-name': (i) => [i.state],
  'instance-state-code': (i) => [String(STATE_CODES[i.state])],
  'instance-type': (i) => [i.instanceType],
  'availability-zone': (i) => [i.availabilityZone],
  'subnet-id': (i) => [i.subnetId],
  'image-id': (i) => [i.imageId],
  'instance-lifecycle': (i) => [i.market === 'spot' ? 'spot' : undefined],
  'private-ip-address': (i) => [i.privateIpAddress],
  'tag-key': (i) => Object.keys(i.tags),
};

/** An EC2 filter value as an anchored regular expression: `*` matches any run, `?` zero or one character, backslash escapes. */
function toPattern(value: string): RegExp {
  const escape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const source = value.replace(/\\(.)|([*?])|(.)/gs, (_, escaped: string, wildcard: string, plain: string) =>
    (escaped !== undefined ? escape(escaped) : wildcard === '*' ? '.*' : wildcard === '?' ? '.?' : escape(plain)));
  return new RegExp(`^${source}$`, 's');
}

const renderState = (state: InstanceStateName) => ({ code: STATE_CODES[state], name: state });

export class InstanceApi {
  constructor(private readonly lifecycle: InstanceLifecycle, private readonly accountId: string) {}

  describeInstances(params: QueryParams): XmlObject {
    const ids = params.strings('InstanceId');
    const maxResults = params.integer('MaxResults');
    if (ids.length > 0 && maxResults !== undefined) {
      throw apiErrors.invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults');
    }
    // The current model drops the 5-1000 range; enforced anyway to be safe (reference/aws.md 2.1).
    if (maxResults !== undefined && (maxResults < 5 || maxResults > 1000)) {
      throw apiErrors.invalidParameterValue(`Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
    }
    // Filters are ANDed, the values of one filter ORed, values case-sensitive.
    const filters = params.list('Filter').map((f) => {
      const name = f.requiredString('Name');
      if (!name.startsWith('tag:') && !(name in FILTERS)) throw apiErrors.invalidParameterValue(`The filter '${name}' is invalid`);
      const patterns = f.strings('Value').map(toPattern);
      const values = name.startsWith('tag:') ? (i: InstanceRecord) => [i.tags[name.slice(4)]] : FILTERS[name];
      return (i: InstanceRecord) => values(i).some((v) => v !== undefined && patterns.some((p) => p.test(v)));
    });
    const candidates = ids.length > 0 ? this.requireVisible(ids) : this.lifecycle.all().filter((i) => this.lifecycle.visibleToApi(i));
    const matching = candidates.filter((i) => filters.every((matches) => matches(i)));

    // A NextToken is good only for the request that produced it.
    const scope = createHash('sha256').update(params.fingerprint(['NextToken', 'MaxResults'])).digest('hex').slice(0, 16);
    const offset = decodeToken(params.string('NextToken'), scope);
    const end = offset + (maxResults ?? 1000);
    const reservations = new Map<string, InstanceRecord[]>();
    for (const i of matching.slice(offset, end)) reservations.set(i.reservationId, [...(reservations.get(i.reservationId) ?? []), i]);
    return {
      reservationSet: [...reservations].map(([reservationId, instances]) => ({
        reservationId, ownerId: this.accountId, groupSet: [], instancesSet: instances.map(renderInstance),
      })),
      nextToken: end < matching.length ? Buffer.from(JSON.stringify({ o: end, s: scope })).toString('base64') : undefined,
    };
  }

  terminateInstances(params: QueryParams): XmlObject {
    const ids = params.strings('InstanceId');
    if (ids.length === 0) throw apiErrors.missingParameter('InstanceId');
    // If one id is bad, none is terminated (reference/aws.md 2.2).
    this.requireVisible(ids);
    return {
      instancesSet: ids.map((instanceId) => {
        const { previous, current } = this.lifecycle.terminate(instanceId, 'user');
        return { instanceId, currentState: renderState(current), previousState: renderState(previous) };
      }),
    };
  }

  /** Every id well-formed and known, or the whole call fails: Malformed before NotFound. */
  private requireVisible(ids: readonly string[]): InstanceRecord[] {
    const malformed = ids.find((id) => !INSTANCE_ID.test(id));
    if (malformed !== undefined) throw new Ec2ApiError('InvalidInstanceID.Malformed', `Invalid id: "${malformed}" (expecting "i-...")`);
    const found = ids.map((id) => this.lifecycle.get(id)).map((i) => (i && this.lifecycle.visibleToApi(i) ? i : undefined));
    const missing = ids.filter((_, n) => found[n] === undefined);
    if (missing.length > 0) {
      throw new Ec2ApiError('InvalidInstanceID.NotFound', missing.length === 1
        ? `The instance ID '${missing[0]}' does not exist` : `The instance IDs '${missing.join(', ')}' do not exist`);
    }
    return [...new Set(found as InstanceRecord[])];
  }
}

function decodeToken(token: string | undefined, scope: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { o?: unknown; s?: unknown };
    if (typeof parsed.o === 'number' && parsed.s === scope) return parsed.o;
  } catch {
    // fall through to the error below
  }
  throw apiErrors.invalidParameterValue(`The NextToken '${token}' is not valid for this request.`);
}

function renderInstance(i: InstanceRecord): XmlObject {
  const lt = i.launchTemplate.data;
  const gone = i.state === 'terminated';
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: renderState(i.state),
    privateDnsName: gone ? '' : `ip-${i.privateIpAddress.replace(/\./g, '-')}.ec2.internal`,
    reason: i.stateTransitionReason,
    amiLaunchIndex: i.amiLaunchIndex,
    instanceType: i.instanceType,
    launchTime: new Date(i.launchTime),
    placement: { availabilityZone: i.availabilityZone, tenancy: 'default' },
    subnetId: gone ? undefined : i.subnetId,
    vpcId: gone ? undefined : 'vpc-0sandbox000000001',
    privateIpAddress: gone ? undefined : i.privateIpAddress,
    stateReason: i.stateReason && { code: i.stateReason.code, message: i.stateReason.message },
    architecture: i.architecture,
    // No `on-demand` value exists for instanceLifecycle: on-demand instances omit it (reference/aws.md 2.1).
    instanceLifecycle: i.market === 'spot' ? 'spot' : undefined,
    spotInstanceRequestId: i.spotInstanceRequestId,
    clientToken: i.clientToken,
    tagSet: Object.entries(i.tags).map(([key, value]) => ({ key, value })),
    iamInstanceProfile: lt.iamInstanceProfile && { arn: lt.iamInstanceProfile.arn, id: instanceProfileId(i) },
    metadataOptions: { state: i.state === 'pending' ? 'pending' : 'applied', ...lt.metadataOptions },
  };
}

/** The `AIPA…` id of the instance profile (derived from the template: stable, and unique enough). */
export const instanceProfileId = (i: InstanceRecord) => `AIPA${i.launchTemplate.launchTemplateId.slice(3, 20).toUpperCase()}`;
