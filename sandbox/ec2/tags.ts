// CreateTags on instances and their root volumes (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html):
// adds or overwrites the given tags, all resources or none. What the simulator enforces, from the API reference, the tag
// restrictions of "Tag your Amazon EC2 resources" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html) and the
// error codes of https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html:
// - ResourceId.N and Tag.N are required (MissingParameter); a Tag's Value may be absent: "we set the value to an empty string";
// - an id that is not a resource id: InvalidID; an instance or a volume that does not exist: InvalidInstanceID.NotFound,
//   InvalidVolume.NotFound; ids of other resource types are not modelled (Unsupported);
// - keys of 1 to 128 characters, values of at most 256 (counted as Unicode characters): InvalidParameterValue;
// - keys starting with `aws:` (any case) are reserved: InvalidParameterValue;
// - at most 50 user tags per resource after the call (`aws:` tags do not count): TagLimitExceeded.
// A refused call changes no resource.
import { InstanceLifecycle } from './instances';
import { apiErrors, Ec2ApiError, QueryParams, XmlObject } from './wire';

export const MAX_TAGS_PER_RESOURCE = 50;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;
const RESERVED = /^aws:/i;
/** Resource ids: a type prefix and 8 or 17 hex digits. */
const RESOURCE_ID = /^([a-z]+(?:-[a-z]+)*)-([0-9a-f]{8}|[0-9a-f]{17})$/;

type Tags = Readonly<Record<string, string>>;

/** A resource CreateTags can name: what it is, how to read and replace its tags. */
interface Taggable {
  readonly id: string;
  readonly tags: Tags;
  set(tags: Tags): void;
}

const length = (s: string) => Array.from(s).length;

/** The tags a CreateTags request sets, validated; throws the request-level error EC2 answers. */
export function requestedTags(params: QueryParams): Tags {
  const list = params.list('Tag');
  if (list.length === 0) throw apiErrors.missingParameter('Tag');
  const tags: Record<string, string> = {};
  for (const tag of list) {
    const key = tag.string('Key') ?? '';
    const value = tag.string('Value') ?? '';
    if (length(key) < 1 || length(key) > MAX_KEY_LENGTH) {
      throw apiErrors.invalidParameterValue(`Value ( ${key} ) for parameter key is invalid. Tag keys must be between 1 and ${MAX_KEY_LENGTH} characters.`);
    }
    if (RESERVED.test(key)) {
      throw apiErrors.invalidParameterValue(`Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`);
    }
    if (length(value) > MAX_VALUE_LENGTH) {
      throw apiErrors.invalidParameterValue(`Value ( ${value} ) for parameter value is invalid. Tag values may be at most ${MAX_VALUE_LENGTH} characters.`);
    }
    tags[key] = value;
  }
  return tags;
}

/** The resources the request names, each known; Malformed before NotFound, as for instance ids (reference/aws.md 2.2). */
function namedResources(lifecycle: InstanceLifecycle, ids: readonly string[]): Taggable[] {
  if (ids.length === 0) throw apiErrors.missingParameter('ResourceId');
  const invalid = ids.find((id) => !RESOURCE_ID.test(id));
  if (invalid !== undefined) throw new Ec2ApiError('InvalidID', `The ID '${invalid}' is not valid`);
  const other = ids.find((id) => !id.startsWith('i-') && !id.startsWith('vol-'));
  if (other !== undefined) throw apiErrors.unsupported(`The EC2 simulator models CreateTags on instances and volumes only, not ${other}.`);
  return ids.map((id) => {
    if (id.startsWith('i-')) {
      const instance = lifecycle.get(id);
      if (!instance) throw new Ec2ApiError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return { id, tags: instance.tags, set: (tags: Tags) => { instance.tags = tags; } };
    }
    const owner = lifecycle.volumeOwner(id);
    if (!owner) throw new Ec2ApiError('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    return { id, tags: owner.rootVolume.tags, set: (tags: Tags) => { owner.rootVolume.tags = tags; } };
  });
}

/** The tags of an instance or a volume the simulator knows (what IAM reads as ec2:ResourceTag); empty for an unknown id. */
export function resourceTags(lifecycle: InstanceLifecycle, id: string): Tags {
  if (id.startsWith('vol-')) return lifecycle.volumeOwner(id)?.rootVolume.tags ?? {};
  return lifecycle.get(id)?.tags ?? {};
}

export function createTags(lifecycle: InstanceLifecycle, params: QueryParams): XmlObject {
  if (params.names().some((n) => !/^(Action|Version|DryRun|ResourceId\.\d+|Tag\.\d+\.(Key|Value))$/.test(n))) {
    throw apiErrors.unsupported('The EC2 simulator models CreateTags by ResourceId.N, Tag.N and DryRun only.');
  }
  const tags = requestedTags(params);
  const resources = namedResources(lifecycle, params.strings('ResourceId'));
  const updated = resources.map((r) => ({ resource: r, tags: { ...r.tags, ...tags } }));
  const over = updated.find((u) => Object.keys(u.tags).filter((k) => !RESERVED.test(k)).length > MAX_TAGS_PER_RESOURCE);
  if (over) throw new Ec2ApiError('TagLimitExceeded', `The maximum number of tags per resource (${MAX_TAGS_PER_RESOURCE}) has been exceeded for resource ${over.resource.id}.`);
  if (params.string('DryRun') === 'true') throw new Ec2ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
  for (const u of updated) u.resource.set(u.tags);
  return { return: true };
}
