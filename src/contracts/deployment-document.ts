// What the status and reset commands read of a deployment: the names of its parts, as one JSON
// document in an SSM String parameter the construct writes (the stack output `<id>Deployment` names
// the parameter). Pure: the construct and the command's bundle include it.

export const DEPLOYMENT_DOCUMENT_VERSION = 1;

export interface DeploymentDocument {
  readonly version: number;
  /** The server's web URL and its REST API base. */
  readonly githubUrl: string;
  readonly githubApiUrl: string;
  /** The App id the props give; absent when the setup page creates the App. */
  readonly appId?: string;
  readonly appIdParameterName: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
  /** The enterprise enterprise-scoped configs register at, and where its credential is; absent without one. */
  readonly enterprise?: string;
  readonly enterpriseTokenParameterName?: string;
  readonly setupTokenParameterName: string;
  /** The setup page without its token; absent with an App id of the props. */
  readonly setupUrl?: string;
  readonly webhookUrl: string;
  readonly runnerConfigPath: string;
  readonly tableName: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrls: readonly string[];
  /** The value of the managed-by tag of the deployment's instances. */
  readonly managedBy: string;
  readonly alarmNames: readonly string[];
}

/** The document from its JSON, or why it is not one. */
export function parseDeploymentDocument(json: string): DeploymentDocument | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'it is not JSON';
  }
  const doc = value as Partial<DeploymentDocument> | null;
  if (typeof doc !== 'object' || doc === null || doc.version !== DEPLOYMENT_DOCUMENT_VERSION) {
    return `it is not a version ${DEPLOYMENT_DOCUMENT_VERSION} deployment document: upgrade cdk-ephemeral-runners to the version the stack was deployed with`;
  }
  const strings: Array<keyof DeploymentDocument> = [
    'githubUrl', 'githubApiUrl', 'appIdParameterName', 'privateKeyParameterName', 'webhookSecretParameterName', 'setupTokenParameterName',
    'webhookUrl', 'runnerConfigPath', 'tableName', 'queueUrl', 'managedBy',
  ];
  const missing = strings.filter((key) => typeof doc[key] !== 'string');
  if (!Array.isArray(doc.deadLetterQueueUrls)) missing.push('deadLetterQueueUrls');
  if (!Array.isArray(doc.alarmNames)) missing.push('alarmNames');
  return missing.length > 0 ? `it lacks ${missing.join(', ')}` : doc as DeploymentDocument;
}
