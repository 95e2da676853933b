// Entry point of the register function: the shared control-plane adapters from the environment
// (once per container) and the runner role's name, wired into the logic in lambda/register/.
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { CONTROL_PLANE_AND_PACING, controlPlaneFrom } from './wiring/control-plane';
import { decodeEnvironment, REGISTER_ENVIRONMENT } from '../../src/contracts/environment';
import { createLogger } from '../common/logger';
import { RegisterResult } from '../register/http';
import { createRegisterHandler } from '../register/register-handler';
import { PowertoolsRegisterMetrics } from '../register/register-metrics';
import { RegisterDeps } from '../register/register-runner';

/** Powertools reads its own variables (RUNTIME_VARIABLES); these are the function's. */
const ENVIRONMENT = { ...CONTROL_PLANE_AND_PACING, ...REGISTER_ENVIRONMENT };

const logger = createLogger();

function buildDeps(): RegisterDeps {
  // Decoded together, so one error names every missing variable.
  const env = decodeEnvironment(ENVIRONMENT, process.env);
  const plane = controlPlaneFrom(env);
  return {
    runnerRoleName: env.runnerRoleName,
    configRoleNames: env.configRoleNames,
    runnerNamePrefix: plane.settings.runnerNamePrefix,
    runners: plane.runners,
    pools: plane.pools,
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
