// The runner versions the image pipeline and the reconciler share through SSM: each image's, which
// its build writes, and the one the GitHub server ships, which the reconciler writes and builds
// read as their floor. Pure: the functions' bundles include it.

/** Under the pipeline's parameter prefix: `<prefix>/runner-version/<x64|arm64>`, the newest image's runner version. */
export const RUNNER_VERSION_PARAMETER_SUFFIX = 'runner-version';
/** Under the pipeline's parameter prefix: the runner version the GitHub server ships (its minimum). */
export const SERVER_RUNNER_VERSION_PARAMETER_SUFFIX = 'runner-version/github-server';
/** What both parameters hold before anything wrote them: known to be no version at all. */
export const NO_RUNNER_VERSION = '0.0.0';
