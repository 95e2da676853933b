// The construct's synth-time checks of its props: each problem says what was given and the fix.
import { Annotations, Duration, Size, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DeploymentNames } from './deployment-names';
import { validateMaxInstances } from './fleet-cap';
import { describeRoutingTies } from './routing-ties';
import { EphemeralRunnersProps } from '../ephemeral-runners-props';
import { RunnerConfig, RunnerScope, validateRunnerConfigs } from '../runner-config';

const PARAMETER_NAME = /^\/[A-Za-z0-9_.\-/]{1,900}[A-Za-z0-9_.-]$/;

export function validateParameterName(prop: string, name: string): string[] {
  if (Token.isUnresolved(name) || PARAMETER_NAME.test(name)) return [];
  return [`${prop} '${name}' is not a valid SSM parameter name; start it with '/' and use letters, digits, '_', '.', '-' and '/'.`];
}

export function validateDurations(maxLifetime: Duration, bootTimeout: Duration): string[] {
  const errors: string[] = [];
  if (bootTimeout.toSeconds() < 60) errors.push(`runnerBootTimeout is ${bootTimeout.toHumanString()}; give instances at least 1 minute to boot.`);
  if (maxLifetime.toSeconds() <= bootTimeout.toSeconds()) {
    errors.push(`maxRunnerLifetime (${maxLifetime.toHumanString()}) must be longer than runnerBootTimeout (${bootTimeout.toHumanString()}).`);
  }
  return errors;
}

/** What cannot go into the VPC this construct makes, and why. */
export function validateNetworkNeedsVpc(props: EphemeralRunnersProps): string[] {
  if (props.vpc) return [];
  const errors: string[] = [];
  if (props.controlPlaneSubnets) {
    errors.push('controlPlaneSubnets is set but vpc is not: the VPC made by default has public subnets only, where a function gets no public '
      + 'address and so no way out; give vpc, with subnets that reach DynamoDB, SQS, SSM, EC2 and the GitHub server.');
  }
  if (props.registerAccess?.isPrivate) {
    errors.push('registerAccess is EndpointAccess.privateApi() but vpc is not set: the runners of the VPC made by default have public addresses '
      + 'and reach the Function URL directly; give vpc (runner subnets without a route to the internet), or leave registerAccess out.');
  }
  if (props.webhookAccess?.isPrivate && !props.webhookAccess.vpcEndpoint) {
    errors.push('webhookAccess is EndpointAccess.privateApi() but vpc is not set: the endpoint would go into a new VPC the GitHub server has no '
      + 'route to; give vpc (the network the GitHub server reaches), or pass the execute-api endpoint it uses to privateApi(endpoint).');
  }
  return errors;
}

/** Enterprise-scoped configs need the enterprise they register at. */
export function validateEnterpriseScope(props: EphemeralRunnersProps): string[] {
  if (props.github.enterprise !== undefined) return [];
  return props.runnerConfigs.filter((c) => c.scope === RunnerScope.ENTERPRISE).map((c) =>
    `runner config '${c.name}' has scope RunnerScope.ENTERPRISE but github.enterprise is not set; give the enterprise's slug, `
    + 'e.g. github: { ..., enterprise: \'octo-enterprise\' }, and write its credential after deploy (docs/configuration.md, Enterprise runners).');
}

/** What the construct found while building, and the durations it settled on. */
export interface FoundProblems {
  /** Of the GitHub URL and App id. */
  readonly github: string[];
  /** Of github.caCertificatesPem. */
  readonly caCertificates?: string;
  readonly maxLifetime: Duration;
  readonly bootTimeout: Duration;
  /** The deployment's root volume size, which a config's own root volume takes unless it sets one. */
  readonly rootVolumeSize: Size;
}

/** Every problem of the props the constructs below do not report themselves, for one synth to show them all. */
export function validateProps(props: EphemeralRunnersProps, names: DeploymentNames, found: FoundProblems): string[] {
  return [
    ...validateRunnerConfigs(props.runnerConfigs, found.rootVolumeSize),
    ...found.github,
    ...validateParameterName('parameterPrefix', names.prefix),
    ...validateParameterName('github.privateKeyParameterName', names.privateKeyParameterName),
    ...validateParameterName('github.webhookSecretParameterName', names.webhookSecretParameterName),
    ...validateParameterName('github.enterpriseTokenParameterName', names.enterpriseTokenParameterName),
    ...validateEnterpriseScope(props),
    ...validateDurations(found.maxLifetime, found.bootTimeout),
    ...(found.caCertificates ? [found.caCertificates] : []),
    ...validateNetworkNeedsVpc(props),
    ...validateMaxInstances(props),
  ];
}

/** The id of the warning about a routing tie, to acknowledge it with (`Annotations.of(scope).acknowledgeWarning`). */
export const ROUTING_TIE_WARNING = 'cdk-ephemeral-runners:runnerConfigTie';

/**
 * Warns of each tie between runner configs: not an error, since the tie has a documented winner
 * (runner-labels.ts), but a job may go to a config its author did not expect.
 */
export function warnRoutingTies(scope: Construct, configs: readonly RunnerConfig[]): void {
  for (const tie of describeRoutingTies(configs)) Annotations.of(scope).addWarningV2(ROUTING_TIE_WARNING, tie);
}
