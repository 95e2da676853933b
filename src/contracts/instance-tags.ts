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
/**
 * Cost allocation: the repository (`owner/name`) whose job an instance ran, set when the job
 * starts. With {@link TAG_WORKFLOW} and {@link TAG_CONFIG}, what Cost Explorer groups runner spend by.
 */
export const TAG_REPOSITORY = 'ephemeral-runners:repository';
/** Cost allocation: the workflow (its `name:`, else its file path) whose job an instance ran, set when the job starts. */
export const TAG_WORKFLOW = 'ephemeral-runners:workflow';
/** The only tags the provisioner may set on an instance after launch (its IAM policy's aws:TagKeys). */
export const COST_TAG_KEYS: readonly string[] = [TAG_REPOSITORY, TAG_WORKFLOW];
