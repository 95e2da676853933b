// One JSON log line per event through Powertools Logger; the service name comes from
// POWERTOOLS_SERVICE_NAME. Callers log correlation fields (delivery, job, pool) and never secrets,
// signatures, tokens or computed HMACs.

import { Logger } from '@aws-lambda-powertools/logger';

export type { Logger };

export function createLogger(options: ConstructorParameters<typeof Logger>[0] = {}): Logger {
  return new Logger(options);
}

/**
 * Labels from a payload, bounded for a log line or an answer: attacker-sized label lists must not
 * blow up a log event. JSON encoding by the logger takes care of newlines and quotes.
 */
export function boundedLabels(labels: readonly string[], maxLabels = 20, maxLength = 100): string[] {
  const shown = labels.slice(0, maxLabels).map((l) => (l.length > maxLength ? `${l.slice(0, maxLength)}…` : l));
  if (labels.length > maxLabels) shown.push(`… ${labels.length - maxLabels} more`);
  return shown;
}
