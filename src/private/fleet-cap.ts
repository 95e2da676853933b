// The deployment-wide cap on live instances (`maxInstances`): its synth-time check and its warning.
// The provisioner enforces it (lambda/core/fleet-cap.ts); the construct hands it to the functions in
// their environment (CONTROL_PLANE_ENVIRONMENT.maxInstances).
import { Annotations, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EphemeralRunnersProps } from '../ephemeral-runners-props';

/**
 * The largest cap: the control plane keeps one lease per live instance in a single DynamoDB item
 * (400 KB at most), which a thousand leases with the longest pool ids fill to under half.
 */
export const MAX_INSTANCES_LIMIT = 1000;

/** The id of the warning that maxInstances can never bind, to acknowledge it with (`Annotations.of(scope).acknowledgeWarning`). */
export const UNBOUND_FLEET_CAP_WARNING = 'cdk-ephemeral-runners:maxInstancesNeverBinds';

export function validateMaxInstances(props: Pick<EphemeralRunnersProps, 'maxInstances'>): string[] {
  const value = props.maxInstances;
  if (value === undefined) return [];
  if (Token.isUnresolved(value)) {
    return ['maxInstances is a token; give a number known at synth time (the functions read it from their environment, checked at synth).'];
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_INSTANCES_LIMIT) {
    return [`maxInstances is ${value}; give a whole number from 1 to ${MAX_INSTANCES_LIMIT}, or leave it out for no deployment-wide cap.`];
  }
  return [];
}

/**
 * Warns when the cap is at least the sum of the configs' maxRunners: a pool (a scope × a config)
 * never has more, so the cap binds only when jobs of one config come from several organizations or
 * repositories at once.
 */
export function warnUnboundFleetCap(scope: Construct, props: Pick<EphemeralRunnersProps, 'maxInstances' | 'runnerConfigs'>): void {
  const cap = props.maxInstances;
  if (cap === undefined || validateMaxInstances(props).length > 0) return;
  const sum = props.runnerConfigs.reduce((n, c) => n + (c.maxRunners ?? 10), 0);
  if (cap < sum) return;
  Annotations.of(scope).addWarningV2(UNBOUND_FLEET_CAP_WARNING,
    `maxInstances (${cap}) is at least the sum of the runner configs' maxRunners (${sum}): it never binds unless jobs of one config come from `
    + 'several organizations or repositories at once (each a pool with a maxRunners of its own). Lower it below that sum, or leave it out.');
}
