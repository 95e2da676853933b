// Which GitHub Actions runner release the runner image bakes: the newest one, resolved and verified
// on the build instance at every build, or a release pinned with its SHA-256 sums.

/** A GitHub Actions runner release and the SHA-256 of its Linux archives. */
export interface RunnerRelease {
  /** e.g. `2.329.0` */
  readonly version: string;
  /** SHA-256 of `actions-runner-linux-x64-<version>.tar.gz` (hex). */
  readonly sha256X64: string;
  /** SHA-256 of `actions-runner-linux-arm64-<version>.tar.gz` (hex). */
  readonly sha256Arm64: string;
}

/**
 * The runner release an image build installs.
 *
 * `RunnerVersion.latest()` asks github.com for the newest release at every build (the schedule
 * picks up new releases without a deploy) and checks the archive against the SHA-256 GitHub
 * publishes for it; `RunnerVersion.pinned()` installs one release, checked against the sums you
 * give. Either way a build refuses a runner older than the one your GitHub Enterprise Server ships
 * (once the control plane has read it) and fails without publishing an image.
 */
export class RunnerVersion {
  /**
   * The newest release of https://github.com/actions/runner, read at build time from
   * `GET https://api.github.com/repos/actions/runner/releases/latest`; the build instance needs
   * to reach api.github.com as well as github.com.
   */
  static latest(): RunnerVersion {
    return new RunnerVersion(undefined);
  }

  /**
   * One release, e.g. `{ version: '2.329.0', sha256X64: '…', sha256Arm64: '…' }` with the sums
   * from its release page. Rebuilds keep it until you change it.
   */
  static pinned(release: RunnerRelease): RunnerVersion {
    return new RunnerVersion(release);
  }

  /** The pinned release; undefined for {@link RunnerVersion.latest}. */
  readonly release?: RunnerRelease;

  private constructor(release: RunnerRelease | undefined) {
    this.release = release;
  }
}
