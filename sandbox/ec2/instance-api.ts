// DescribeInstances, TerminateInstances and CreateTags over the simulated instances, with EC2's
// validation: a bad id fails the whole call, MaxResults excludes InstanceId.N, pages by NextToken
// (reference/aws.md 2).
import { createHash } from 'crypto';
import { apiErrors, Ec2ApiError } from './errors';
import { matchesFilters, parseFilters } from './filters';
import { FleetService } from './fleet';
import { readTags } from './fleet-request';
import { InstanceLifecycle, InstanceRecord } from './instances';
import { QueryParams } from './query';
import { renderInstance, renderState } from './render';
import { XmlObject } from './xml';

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
const DEFAULT_PAGE = 1000;

export class InstanceApi {
  constructor(
    private readonly lifecycle: InstanceLifecycle,
    private readonly fleets: FleetService,
    private readonly accountId: string,
  ) {}

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
    const filters = parseFilters(params);
    const candidates = ids.length > 0 ? this.requireVisible(ids) : this.lifecycle.all().filter((i) => this.lifecycle.visibleToApi(i));
    const matching = candidates.filter((i) => matchesFilters(i, filters));

    const scope = createHash('sha256').update(params.fingerprint(['NextToken', 'MaxResults'])).digest('hex').slice(0, 16);
    const offset = decodeToken(params.string('NextToken'), scope);
    const pageSize = maxResults ?? DEFAULT_PAGE;
    const page = matching.slice(offset, offset + pageSize);
    const nextToken = offset + pageSize < matching.length ? encodeToken(offset + pageSize, scope) : undefined;

    const reservations = new Map<string, InstanceRecord[]>();
    for (const instance of page) reservations.set(instance.reservationId, [...(reservations.get(instance.reservationId) ?? []), instance]);
    return {
      reservationSet: [...reservations].map(([reservationId, instances]) => ({
        reservationId,
        ownerId: this.accountId,
        groupSet: [],
        instancesSet: instances.map((i) => renderInstance(i)),
      })),
      nextToken,
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

  createTags(params: QueryParams): XmlObject {
    const resourceIds = params.strings('ResourceId');
    if (resourceIds.length === 0) throw apiErrors.missingParameter('ResourceId');
    if (!params.has('Tag')) throw apiErrors.missingParameter('Tag');
    const tags = readTags(params, 'Tag');
    const instanceIds = resourceIds.filter((id) => id.startsWith('i-'));
    const instances = this.requireVisible(instanceIds);
    for (const id of resourceIds) {
      if (!id.startsWith('i-') && !id.startsWith('fleet-')) throw new Ec2ApiError('InvalidID', `The ID '${id}' is not valid`);
    }
    for (const instance of instances) {
      const merged = new Set([...instance.tags.keys(), ...tags.keys()]);
      if (merged.size > 50) throw new Ec2ApiError('TagLimitExceeded', `The maximum number of tags per resource (50) has been exceeded for ${instance.instanceId}.`);
    }
    for (const id of resourceIds.filter((r) => r.startsWith('fleet-'))) {
      if (!this.fleets.tagFleet(id, new Map())) throw new Ec2ApiError('InvalidFleetId.NotFound', `The fleet ID '${id}' does not exist`);
    }
    for (const instance of instances) for (const [k, v] of tags) instance.tags.set(k, v);
    for (const id of resourceIds.filter((r) => r.startsWith('fleet-'))) this.fleets.tagFleet(id, tags);
    return { return: true };
  }

  /** Every id well-formed and known, or the whole call fails: Malformed before NotFound. */
  private requireVisible(ids: readonly string[]): InstanceRecord[] {
    const malformed = ids.find((id) => !INSTANCE_ID.test(id));
    if (malformed !== undefined) throw apiErrors.instanceIdMalformed(malformed);
    const found = ids.map((id) => {
      const instance = this.lifecycle.get(id);
      return instance && this.lifecycle.visibleToApi(instance) ? instance : undefined;
    });
    const missing = ids.filter((_, n) => found[n] === undefined);
    if (missing.length > 0) throw apiErrors.instanceIdNotFound(missing);
    return [...new Set(found as InstanceRecord[])];
  }
}

function encodeToken(offset: number, scope: string): string {
  return Buffer.from(JSON.stringify({ o: offset, s: scope })).toString('base64');
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
