// Runner versions: what the GitHub server ships (read from its runner downloads) against what the
// runner images hold. Pure: the reconciler's step loads both and reports the comparison.

/** One archive of GitHub's "List runner applications" answer (GHES OpenAPI schema `runner-application`). */
export interface RunnerDownload {
  readonly os: string;
  readonly architecture: string;
  readonly filename: string;
  readonly sha256Checksum?: string;
}

/** Where the image pipeline and the reconciler keep runner versions (SSM); the adapter is lambda/config/ssm-runner-versions.ts. */
export interface RunnerVersionStore {
  /** In one read: the server's version as last written, and the newest image's by architecture (`x64`, `arm64`). */
  versions(): Promise<RunnerVersions>;
  setServerVersion(version: string): Promise<void>;
}

export interface RunnerVersions {
  readonly server: string;
  readonly images: Readonly<Record<string, string>>;
}

const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/** `2.329.0` → [2, 329, 0]; undefined for anything else. */
export function parseRunnerVersion(text: string): [number, number, number] | undefined {
  const match = VERSION.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b`; both must parse. */
export function compareRunnerVersions(a: string, b: string): number {
  const [x, y] = [parseRunnerVersion(a), parseRunnerVersion(b)];
  if (!x || !y) throw new RangeError(`not runner versions: ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/**
 * The version the server ships, from the file name of its Linux archives
 * (`actions-runner-linux-x64-2.329.0.tar.gz`): the answer has no version field. The newest of them
 * when they differ; undefined when it lists no Linux archive.
 */
export function serverRunnerVersion(downloads: readonly RunnerDownload[]): string | undefined {
  const versions = downloads
    .filter((d) => d.os === 'linux')
    .map((d) => /^actions-runner-linux-[a-z0-9]+-(\d+\.\d+\.\d+)\.tar\.gz$/.exec(d.filename)?.[1])
    .filter((v): v is string => v !== undefined);
  return versions.sort(compareRunnerVersions).pop();
}

export interface ImageRunnerStatus {
  readonly architecture: string;
  readonly imageVersion: string;
  /** The image's runner is older than the one the server ships. */
  readonly behind: boolean;
}

/**
 * Each image against the server's version. An image whose version is not a version, or is
 * `noVersion` (none built yet), is left out: there is nothing to compare.
 */
export function imageRunnerStatus(images: Readonly<Record<string, string>>, server: string, noVersion: string): ImageRunnerStatus[] {
  return Object.entries(images)
    .filter(([, version]) => version !== noVersion && parseRunnerVersion(version) !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([architecture, imageVersion]) => ({ architecture, imageVersion, behind: compareRunnerVersions(imageVersion, server) < 0 }));
}
