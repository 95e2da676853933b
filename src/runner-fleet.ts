// What every runner instance is launched with: a security group, an instance role, a log group and
// one launch template per runner config (DESIGN.md section 3.3-3.5).
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { RunnerConfigDocument } from './runner-config-document';

/** Props of {@link RunnerFleet}. */
export interface RunnerFleetProps {
  readonly vpc: ec2.IVpc;
  /** The runner configs, as written to SSM. */
  readonly configs: RunnerConfigDocument[];
  readonly rootVolumeSize: Size;
  readonly maxLifetime: Duration;
  /** How long an instance may take to get its runner config. */
  readonly bootTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** The value of the `ephemeral-runners:managed-by` tag of this deployment. */
  readonly managedBy: string;
}

/**
 * Runner instances: no inbound traffic, IMDSv2 only with a hop limit of 1 (so a job's containers
 * cannot reach the instance's credentials), an encrypted gp3 root volume, terminated when they
 * power off, no SSH key, and user data that holds no secret.
 */
export class RunnerFleet extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Launch template per config name. */
  readonly launchTemplates: Record<string, ec2.LaunchTemplate> = {};
  private readonly userData: ec2.UserData[] = [];

  constructor(scope: Construct, id: string, private readonly props: RunnerFleetProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Ephemeral GitHub Actions runners: no inbound traffic',
      allowAllOutbound: true,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Ephemeral GitHub Actions runner instances: may call the register endpoint and write their logs, nothing else',
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));

    for (const config of props.configs) {
      const userData = ec2.UserData.forLinux();
      this.userData.push(userData);
      // No image: the provisioner passes the AMI id at launch (see RunnerMachineImage). EC2 checks a
      // template's `resolve:ssm:` parameter when the template is created, and the construct's own
      // image parameter only exists once the pipeline has built the first image.
      const template = new ec2.LaunchTemplate(this, `LaunchTemplate-${config.name}`, {
        role: this.role,
        securityGroup: this.securityGroup,
        userData,
        requireImdsv2: true,
        httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: false,
        instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
        blockDevices: [{
          deviceName: '/dev/sda1',
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeSize.toGibibytes(), {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        }],
      });
      Tags.of(template).add('ephemeral-runners:config', config.name);
      Tags.of(template).add('ephemeral-runners:managed-by', props.managedBy);
      this.launchTemplates[config.name] = template;
    }
  }

  /**
   * Writes the bootstrap into every launch template's user data, pointing at the register endpoint.
   * Called once the endpoint exists.
   */
  useRegisterEndpoint(url: string, service: string): void {
    const script = fs.readFileSync(path.join(__dirname, '..', 'image-builder', 'bootstrap.sh'), 'utf8');
    for (const userData of this.userData) {
      userData.addCommands(
        // Settings only: the endpoint is public knowledge, and the instance proves who it is with SigV4.
        `export REGISTER_URL='${url}'`,
        `export REGISTER_SERVICE='${service}'`,
        `export CONFIG_TIMEOUT_SECONDS='${this.props.bootTimeout.toSeconds()}'`,
        // The bootstrap ships its own lines here (stream: the instance id) as it powers off.
        `export LOG_GROUP_NAME='${this.logGroup.logGroupName}'`,
        `export MAX_LIFETIME_SECONDS='${this.props.maxLifetime.toSeconds()}'`,
        'mkdir -p /opt/ephemeral-runners',
        "cat > /opt/ephemeral-runners/bootstrap.sh <<'EPHEMERAL_RUNNERS_BOOTSTRAP'",
        script.trimEnd(),
        'EPHEMERAL_RUNNERS_BOOTSTRAP',
        'chmod 755 /opt/ephemeral-runners/bootstrap.sh',
        'exec /opt/ephemeral-runners/bootstrap.sh',
      );
    }
  }

  /** The ARNs of the launch templates, for the provisioner's permissions. */
  get launchTemplateArns(): string[] {
    return Object.values(this.launchTemplates).map((t) => Stack.of(this).formatArn({
      service: 'ec2',
      resource: 'launch-template',
      resourceName: t.launchTemplateId!,
    }));
  }
}
