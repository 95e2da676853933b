// Entry point of the register function: the shared control-plane adapters from the environment
// (once per container) and the runner role's name, wired into the logic in lambda/register/.
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { CONTROL_PLANE_ENVIRONMENT, controlPlaneFromEnvironment } from './wiring/control-plane';
import { readEnvironment } from '../common/env';
import { createLogger } from '../common/logger';
import { RegisterResult } from '../register/http';
import { createRegisterHandler } from '../register/register-handler';
import { PowertoolsRegisterMetrics } from '../register/register-metrics';
import { RegisterDeps } from '../register/register-runner';

/** POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are read by Powertools itself. */
const ENVIRONMENT = ['RUNNER_ROLE_NAME'] as const;

const logger = createLogger();

function buildDeps(): RegisterDeps {
  // Checked together first, so one error names every missing variable.
  const env = readEnvironment([...CONTROL_PLANE_ENVIRONMENT, ...ENVIRONMENT]);
  const plane = controlPlaneFromEnvironment();
  return {
    runnerRoleName: env.RUNNER_ROLE_NAME,
    runnerNamePrefix: plane.settings.runnerNamePrefix,
    runners: plane.runners,
    jobs: plane.jobs,
    configs: plane.configs,
    github: plane.github,
    clock: plane.clock,
    logger,
    metrics: new PowertoolsRegisterMetrics(new Metrics()),
  };
}

const register = createRegisterHandler(buildDeps, logger);

/** Function URL (payload 2.0) or, behind a private REST API, a v1 proxy event. */
export async function handler(event: LambdaFunctionURLEvent | APIGatewayProxyEvent, context?: Context): Promise<RegisterResult> {
  return register(event, context);
}
