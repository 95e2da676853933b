// What the functions of one deployment are built from: the collaborators whose grants they take
// and whose names their environments carry.
import { Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ControlPlaneFunctionSettings } from './control-plane-function';
import { GitHubApp } from './github-app';
import { IRunnerConfigs, RunnerConfigParameters } from './runner-config-parameters';
import { IRunnerFleet, RunnerFleet } from './runner-fleet';
import { IStateTable, StateTable } from './state-table';
import { CONTROL_PLANE_ENVIRONMENT, encodeEnvironment } from '../contracts/environment';

/** What the functions' grants name: the collaborators as their grants see them. */
export interface ControlPlaneAccess {
  readonly table: IStateTable;
  /** Pools to reconcile. */
  readonly queue: sqs.IQueue;
  readonly configs: IRunnerConfigs;
  readonly githubApp: GitHubApp;
  readonly fleet: IRunnerFleet;
}

/** The collaborators of a deployment's functions, and the settings they share. */
export interface ControlPlane extends ControlPlaneAccess {
  readonly table: StateTable;
  readonly configs: RunnerConfigParameters;
  readonly fleet: RunnerFleet;
  readonly functions: ControlPlaneFunctionSettings;
  /** The deployment-wide cap on live instances, if the props set one (and it is valid). */
  readonly maxInstances?: number;
}

/** The environment every function but the webhook reads ({@link CONTROL_PLANE_ENVIRONMENT}). */
export function controlPlaneEnvironment(controlPlane: ControlPlane): Record<string, string> {
  const { table, queue, configs, githubApp, fleet } = controlPlane;
  return encodeEnvironment(CONTROL_PLANE_ENVIRONMENT, {
    tableName: table.tableName,
    queueUrl: queue.queueUrl,
    runnerConfigPath: configs.path,
    githubApiUrl: githubApp.apiUrl,
    githubAppId: githubApp.appId,
    appIdParameterName: githubApp.appIdParameterName,
    privateKeyParameterName: githubApp.privateKeyParameterName,
    enterpriseTokenParameterName: githubApp.enterprise !== undefined ? githubApp.enterpriseTokenParameterName : undefined,
    runnerNamePrefix: fleet.runnerNamePrefix,
    managedBy: fleet.managedBy,
    bootTimeoutSeconds: fleet.bootTimeout.toSeconds(),
    maxLifetimeSeconds: fleet.maxLifetime.toSeconds(),
    maxInstances: controlPlane.maxInstances,
  }, (value) => Stack.of(table).toJsonString(value));
}
