// EventBridge rate expressions: `rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)`.
// The unit is singular for 1 and plural otherwise, as EventBridge insists. cron() is not simulated.

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export class InvalidScheduleExpressionError extends Error {
  constructor(expression: string, reason: string) {
    super(`Parameter ScheduleExpression is not valid: "${expression}" (${reason})`);
    this.name = 'InvalidScheduleExpressionError';
  }
}

/** The period of a rate expression in milliseconds. */
export function ratePeriodMs(expression: string): number {
  if (expression.startsWith('cron(')) throw new InvalidScheduleExpressionError(expression, 'the sandbox simulates rate() expressions only');
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new InvalidScheduleExpressionError(expression, 'expected rate(<value> <unit>)');
  const value = Number(match[1]);
  const plural = match[2].endsWith('s');
  if (value < 1) throw new InvalidScheduleExpressionError(expression, 'the value must be a positive integer');
  if (plural !== (value > 1)) throw new InvalidScheduleExpressionError(expression, `use "${match[2].replace(/s$/, '')}" for 1 and the plural otherwise`);
  return value * UNIT_MS[match[2].replace(/s$/, '')];
}
