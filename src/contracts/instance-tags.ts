// The tags of the instances, their volumes and fleets, and of the runner images: the functions
// filter and authorize by them, the construct's IAM conditions name them.

/** Which deployment owns an instance; the functions' EC2 permissions are conditioned on it. */
export const TAG_MANAGED_BY = 'ephemeral-runners:managed-by';
/** The pool (runner config and scope) an instance was launched for. */
export const TAG_POOL = 'ephemeral-runners:pool';
/** The runner config an instance (and its launch template) belongs to. */
export const TAG_CONFIG = 'ephemeral-runners:config';
/** The launch (CreateFleet client token) that created an instance. */
export const TAG_LAUNCH = 'ephemeral-runners:launch';
/** On a runner image (AMI): the recipe that built it. */
export const TAG_IMAGE = 'ephemeral-runners:image';
