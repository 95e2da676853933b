// The register function as a Lambda handler: a Function URL (payload 2.0) or REST API (v1) event
// in, result out. Its dependencies are built on the first request and kept for the container's life.
import type { Context } from 'aws-lambda';
import { RegisterResult, jsonAnswer, toLambdaResult } from './http';
import { RegisterDeps, registerRunner } from './register-runner';
import { EnvironmentVariableError } from '../../src/contracts/environment';
import { Logger } from '../common/logger';

export type RegisterHandler = (event: unknown, context?: Context) => Promise<RegisterResult>;

/**
 * `buildDeps` runs on the first request. If the environment is incomplete, every request is
 * answered 500 naming the missing variables (the bootstrap logs it and asks again until its
 * deadline), rather than failing the container's start with a bare error.
 */
export function createRegisterHandler(buildDeps: () => RegisterDeps, logger: Logger): RegisterHandler {
  let deps: RegisterDeps | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      deps ??= buildDeps();
    } catch (e) {
      if (!(e instanceof EnvironmentVariableError)) throw e;
      logger.error('function environment incomplete', { error: e });
      return toLambdaResult(jsonAnswer(500, `register function misconfigured: ${e.message}`));
    }
    return toLambdaResult(await registerRunner(event, deps));
  };
}
