// What a runner config's instances tell while they live, beyond the bootstrap's own lines.

/**
 * Debugging aids for a runner config's instances. Each costs something or widens what can be
 * seen, so each is opt-in.
 */
export interface RunnerDebugOptions {
  /**
   * Stream the runner's own diagnostic logs (`_diag/Runner_*.log` and `_diag/Worker_*.log` in the
   * runner's folder) to the runners' log group while the instance lives, every 5 seconds, one stream
   * per file named `<instance id>/<file name>`, so a job whose instance was reclaimed or hung can be
   * followed up to its last seconds.
   *
   * The runner masks the secrets it knows in these logs; the bootstrap also redacts anything shaped
   * like a GitHub token, a JWT or a long base64 run (a just-in-time runner config) before a line
   * leaves the instance. Lines are cut at 2000 bytes. CloudWatch Logs bills the bytes ingested: a
   * job's diagnostic logs are typically a few hundred kilobytes.
   *
   * The bootstrap's own lines are streamed the same way for every config.
   *
   * @default false
   */
  readonly runnerLogs?: boolean;
}
