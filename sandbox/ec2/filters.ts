// DescribeInstances filters: filters are ANDed, values of one filter ORed, values case-sensitive,
// `*` matches any run and `?` zero or one character, backslash escapes (reference/aws.md 2.1).
import { apiErrors } from './errors';
import { InstanceRecord } from './instances';
import { QueryParams } from './query';
import { STATE_CODES } from './types';

export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

type Extractor = (i: InstanceRecord) => readonly (string | undefined)[];

const EXTRACTORS: Record<string, Extractor> = {
  'instance-id': (i) => [i.instanceId],
  'instance-state-name': (i) => [i.state],
  'instance-state-code': (i) => [String(STATE_CODES[i.state])],
  'instance-type': (i) => [i.instanceType],
  'availability-zone': (i) => [i.availabilityZone],
  'subnet-id': (i) => [i.subnetId],
  'vpc-id': (i) => [i.vpcId],
  'image-id': (i) => [i.imageId],
  'client-token': (i) => [i.clientToken],
  'instance-lifecycle': (i) => [i.market === 'spot' ? 'spot' : undefined],
  'spot-instance-request-id': (i) => [i.spotInstanceRequestId],
  'private-ip-address': (i) => [i.privateIpAddress],
  'reservation-id': (i) => [i.reservationId],
  'iam-instance-profile.arn': (i) => [i.launchTemplate.data.iamInstanceProfile?.arn],
  'tag-key': (i) => [...i.tags.keys()],
};

export function parseFilters(params: QueryParams): Filter[] {
  return params.list('Filter').map((f) => {
    const name = f.requiredString('Name');
    if (!name.startsWith('tag:') && !(name in EXTRACTORS)) {
      throw apiErrors.invalidParameterValue(`The filter '${name}' is invalid`);
    }
    return { name, values: f.strings('Value') };
  });
}

export function matchesFilters(instance: InstanceRecord, filters: readonly Filter[]): boolean {
  return filters.every((filter) => {
    const actual = filter.name.startsWith('tag:')
      ? [instance.tags.get(filter.name.slice('tag:'.length))]
      : EXTRACTORS[filter.name](instance);
    const patterns = filter.values.map(toPattern);
    return actual.some((value) => value !== undefined && patterns.some((p) => p.test(value)));
  });
}

/** An EC2 filter value as an anchored regular expression. */
export function toPattern(value: string): RegExp {
  let source = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) source += escapeRegExp(value[++i]);
    else if (ch === '*') source += '.*';
    else if (ch === '?') source += '.?';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
