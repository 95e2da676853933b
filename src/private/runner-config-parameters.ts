// The runner configs as the functions read them: one SSM parameter per config under one path, each
// holding the config's document (runner-config-document.ts).
import { createHash } from 'crypto';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { parameterArn } from './github-app';
import { RunnerConfig, toRunnerConfigDocument } from '../runner-config';
import { ImageSourceDocument, RunnerConfigDocument } from '../runner-config-document';
import { RunnerMachineImage } from '../runner-machine-image';

/** The runner configs as their readers' grants see them. */
export interface IRunnerConfigs {
  /** The SSM path holding one parameter per runner config. */
  readonly path: string;
  /** Read every runner config (GetParametersByPath on the path). */
  grantRead(grantee: iam.IGrantable): void;
}

abstract class RunnerConfigsBase extends Construct implements IRunnerConfigs {
  abstract readonly path: string;

  grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParametersByPath'],
      resources: [parameterArn(this, this.path)],
    }));
  }
}

/** Props of {@link RunnerConfigParameters}. */
export interface RunnerConfigParametersProps {
  /** The SSM path the parameters go under. */
  readonly path: string;
  /** The configs; a duplicate name is left out here (the construct's validation reports it). */
  readonly configs: RunnerConfig[];
  /**
   * Where the image of a config without a `machineImage` of its own comes from, written into its
   * document for the provisioner. @default - every config names its own
   */
  readonly machineImage?: RunnerMachineImage;
  /** The enterprise enterprise-scoped configs register at. @default - none */
  readonly enterprise?: string;
}

/** One SSM parameter per runner config, the documents written to them, and a hash of them all. */
export class RunnerConfigParameters extends RunnerConfigsBase {
  /** Runner configs of another deployment, or of a test, known by their path: grants only. */
  static fromPath(scope: Construct, id: string, path: string): IRunnerConfigs {
    return new (class extends RunnerConfigsBase {
      readonly path = path;
    })(scope, id);
  }

  readonly path: string;
  /** The documents, in the order of the configs. */
  readonly documents: RunnerConfigDocument[] = [];
  /** A hash of the documents: a change replaces the functions' containers and their cached configs. */
  readonly hash: string;
  /** Configs whose own image has nothing for their architecture, reported at synth. */
  private readonly problems: string[] = [];

  constructor(scope: Construct, id: string, props: RunnerConfigParametersProps) {
    super(scope, id);
    this.path = props.path;
    const seen = new Set<string>();
    for (const [order, config] of props.configs.entries()) {
      if (seen.has(config.name)) continue;
      seen.add(config.name);
      const written = toRunnerConfigDocument(config, order, props.enterprise);
      // The image goes to the provisioner, which reads it at launch: the launch templates name none.
      const architecture = written.architecture === 'arm64' ? ec2.InstanceArchitecture.ARM_64 : ec2.InstanceArchitecture.X86_64;
      const image = imageSource(config.machineImage ?? props.machineImage, architecture, `runner config '${config.name}' (runnerConfigs[${order}])`);
      if (typeof image === 'string') this.problems.push(image);
      const document = { ...written, image: typeof image === 'string' ? undefined : image };
      this.documents.push(document);
      new ssm.StringParameter(this, config.name, {
        parameterName: `${this.path}/${config.name}`,
        description: `Runner config '${config.name}' of cdk-ephemeral-runners`,
        stringValue: JSON.stringify(document),
        tier: ssm.ParameterTier.STANDARD,
      });
    }
    this.hash = createHash('sha256').update(JSON.stringify(this.documents)).digest('hex').slice(0, 16);
    this.node.addValidation({ validate: () => this.problems });
  }
}

/**
 * The image source of a config's architecture, or the problem (an image, the config's own or the
 * deployment's, that names nothing for it), reported at synth with every other problem.
 */
function imageSource(image: RunnerMachineImage | undefined, architecture: ec2.InstanceArchitecture, who: string): ImageSourceDocument | string {
  if (!image) throw new Error(`${who} has no image: give the deployment's machineImage, or one for the config`);
  try {
    return image._sourceFor(architecture);
  } catch (e) {
    return `${who}: ${(e as Error).message}`;
  }
}
