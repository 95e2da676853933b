// The cost allocation tags of an instance that ran a job: which repository and workflow it ran for.
// Their values come from webhook payloads (a workflow's name is whatever its author wrote), so
// they are made valid tag values here, deterministically, before any EC2 call sees them.
import { TAG_REPOSITORY, TAG_WORKFLOW } from '../../src/contracts/instance-tags';

/** "Maximum value length - 256 Unicode characters in UTF-8" (Tag your Amazon EC2 resources: tag restrictions). */
export const MAX_TAG_VALUE_LENGTH = 256;

/**
 * The characters every AWS service accepts in a tag: "letters, numbers, and spaces representable in
 * UTF-8, and the following characters: + - = . _ : / @" (tag restrictions, EC2 User Guide; the
 * pattern CloudFormation gives tag values, `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`). EC2 alone would take
 * more, but Cost Explorer and the billing reports read these tags too.
 */
const ALLOWED = /[\p{L}\p{N} _.:/=+\-@]/u;
const SPACE = /\p{Z}/u;
/** "Don't use aws: … as a prefix for either keys or values, as it is reserved for AWS use." */
const RESERVED_PREFIX = /^aws:/i;
/** What a character no service accepts becomes. */
const REPLACEMENT = '_';

/**
 * A valid tag value for any string: every space-like character becomes a space, every other
 * character outside the allowed set `_`, the reserved `aws:` prefix is defused as `aws_`, and the
 * result is cut to 256 characters (code points, not UTF-16 units). Valid values pass unchanged.
 */
export function costTagValue(raw: string): string {
  const chars = Array.from(raw, (ch) => (SPACE.test(ch) ? ' ' : ALLOWED.test(ch) ? ch : REPLACEMENT));
  const value = chars.slice(0, MAX_TAG_VALUE_LENGTH).join('');
  return RESERVED_PREFIX.test(value) ? `${value.slice(0, 3)}${REPLACEMENT}${value.slice(4)}` : value;
}

/** What a started job says about the cost of the instance that runs it. */
export interface CostTagSource {
  /** `owner/name`. */
  readonly repo: string;
  /** The workflow's `name:`, or its file path when it has none; absent from older GHES payloads. */
  readonly workflowName?: string;
}

/** The cost tags of an instance that runs `job`; no workflow tag when the payload named none. */
export function costTagsOf(job: CostTagSource): Record<string, string> {
  return {
    [TAG_REPOSITORY]: costTagValue(job.repo),
    ...(job.workflowName ? { [TAG_WORKFLOW]: costTagValue(job.workflowName) } : {}),
  };
}
