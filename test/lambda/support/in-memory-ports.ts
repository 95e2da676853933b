// In-memory implementations of the ports (not mocks of SDK calls), for tests. Named for what
// they are; each records what it was asked so tests can count effects.

import { Logger } from '@aws-lambda-powertools/logger';
import { SecretNotSetError } from '../../../lambda/core/errors';
import { JobState } from '../../../lambda/core/job';
import { ProvisionerMessage } from '../../../lambda/core/pool-message';
import { Clock, PoolQueue, RunnerConfigSource, SecretSource } from '../../../lambda/core/ports';
import { RunnerStart } from '../../../lambda/core/runner';
import { RunnerConfig } from '../../../lambda/core/runner-config';
import { IgnoredReason, WebhookMetrics } from '../../../lambda/webhook/webhook-metrics';

export class InMemoryPoolQueue implements PoolQueue {
  readonly messages: ProvisionerMessage[] = [];
  /** Number of upcoming sends that fail, as if SQS were unreachable. */
  failNext = 0;

  async send(message: ProvisionerMessage): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('simulated SQS outage');
    }
    // Stored as it travels: serialized.
    this.messages.push(JSON.parse(JSON.stringify(message)) as ProvisionerMessage);
  }
}

export class InMemoryConfigSource implements RunnerConfigSource {
  loads = 0;

  constructor(public configs: readonly RunnerConfig[], public failure?: Error) {}

  async loadConfigs(): Promise<readonly RunnerConfig[]> {
    this.loads++;
    if (this.failure) throw this.failure;
    return this.configs;
  }
}

export class InMemorySecretSource implements SecretSource {
  reads = 0;

  /** `undefined`: the parameter does not exist yet. */
  constructor(public secret: string | undefined, readonly parameterName = '/test/webhook-secret') {}

  async readSecret(): Promise<string> {
    this.reads++;
    if (this.secret === undefined) throw new SecretNotSetError(this.parameterName);
    return this.secret;
  }
}

export class ManualClock implements Clock {
  constructor(public epochMs = Date.UTC(2026, 0, 15, 12, 0, 0)) {}

  now(): number {
    return this.epochMs;
  }

  advance(ms: number): void {
    this.epochMs += ms;
  }
}

export class InMemoryWebhookMetrics implements WebhookMetrics {
  readonly accepted: { configName: string; state: JobState }[] = [];
  readonly ignored: IgnoredReason[] = [];
  readonly started: { configName: string; waitSeconds: number; start?: RunnerStart }[] = [];
  outOfTimeCount = 0;

  jobEventAccepted(configName: string, state: JobState): void {
    this.accepted.push({ configName, state });
  }

  eventIgnored(reason: IgnoredReason): void {
    this.ignored.push(reason);
  }

  jobStarted(configName: string, waitSeconds: number, start?: RunnerStart): void {
    this.started.push({ configName, waitSeconds, ...(start ? { start } : {}) });
  }

  outOfTime(): void {
    this.outOfTimeCount++;
  }
}

/** A Powertools logger that prints nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return new Logger({ serviceName: 'webhook-test', logLevel: 'SILENT' });
}

/**
 * Runs `fn` with stdout and stderr captured (where the Lambda logger and EMF metrics print) and
 * returns what was printed, one entry per write.
 */
export async function capturePrinted(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const keep = (chunk: string | Uint8Array) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(keep);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(keep);
  try {
    await fn();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines;
}
