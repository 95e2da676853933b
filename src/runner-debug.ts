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

  /**
   * Let operators open a shell on this config's instances with AWS Systems Manager Session Manager:
   * no inbound port and no key pair. The config gets an instance role of its own with what the
   * SSM agent needs (`ssm:UpdateInstanceInformation` and the four `ssmmessages` channel actions)
   * and what session logging to the runner log group needs (`logs:DescribeLogGroups`,
   * `logs:DescribeLogStreams`); nothing else changes. The construct adds a Session document
   * (output `SessionDocumentName`) whose sessions run as the `runner` user, time out after 20 idle
   * minutes and are streamed to the runner log group:
   * `aws ssm start-session --target i-… --document-name <SessionDocumentName>`.
   *
   * The image needs the SSM agent (Ubuntu's AMIs, and so the construct's image, have it); runners in
   * subnets without a route to the internet need `ssm` and `ssmmessages` interface endpoints.
   * Who may start sessions is up to your IAM policies (`ssm:StartSession` on the instances and the
   * document).
   *
   * @default false
   */
  readonly sessionManager?: boolean;
}
