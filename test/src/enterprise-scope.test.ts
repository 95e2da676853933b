// Enterprise-scoped runner configs in the template: the document names the enterprise and the runner group, the enterprise
// credential's parameter is an output, and only the four functions that call GitHub may read it (through SSM, and with a key of
// one's own, decrypt that parameter only). Synth refuses an enterprise config without github.enterprise, and a group given both
// by name and by id.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EphemeralRunnersProps, RunnerConfig, RunnerScope } from '../../src';
import { synthRunners } from './support/synth';
import { appManifest, appPermissions } from '../../src/contracts/github-app';

const TOKEN_PARAMETER = '/ephemeral-runners/Test/Runners/github-enterprise/token';
const shared: RunnerConfig = { name: 'shared', labels: ['linux', 'shared'], scope: RunnerScope.ENTERPRISE, runnerGroup: 'Linux Builders' };
const orgConfig: RunnerConfig = { name: 'org-only', labels: ['linux', 'org'] };
const github = { url: 'https://ghes.example.com', appId: '12', enterprise: 'Octo-Enterprise' };

function synth(configs: RunnerConfig[], props: Partial<EphemeralRunnersProps> | ((stack: Stack) => Partial<EphemeralRunnersProps>) = { github }) {
  return synthRunners(configs, props);
}

/** Role logical ids whose policies allow `action` on a resource whose ARN mentions `fragment`. */
function rolesAllowed(template: Template, action: string, fragment: string): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => {
    const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown; Condition?: unknown }>;
    const allows = statements.some((st) =>
      [st.Action].flat().includes(action) && JSON.stringify([st.Resource, st.Condition ?? {}]).includes(fragment));
    return allows ? policy.Properties.Roles.map((r: { Ref: string }) => r.Ref) : [];
  }).sort();
}

const FOUR_CALLERS = [/^RunnersLifecycleHandler/, /^RunnersProvisionerHandler/, /^RunnersReconcilerHandler/, /^RunnersRegisterHandler/]
  .map((pattern) => expect.stringMatching(pattern));

describe('an enterprise-scoped config', () => {
  const template = synth([shared, orgConfig]);

  test('its document names the scope, the enterprise (folded) and the runner group by name', () => {
    const parameter = Object.values(template.findResources('AWS::SSM::Parameter')).find((p) => String(p.Properties.Name).endsWith('/runner-configs/shared'))!;
    expect(JSON.parse(parameter.Properties.Value)).toMatchObject({ scope: 'enterprise', enterprise: 'octo-enterprise', runnerGroupName: 'Linux Builders' });
  });

  test('the credential\'s parameter is an output, and only the four functions that call GitHub may read it', () => {
    template.hasOutput('RunnersEnterpriseTokenParameter', { Value: TOKEN_PARAMETER });
    expect(rolesAllowed(template, 'ssm:GetParameter', 'github-enterprise/token')).toEqual(FOUR_CALLERS);
    const withVariable = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f) => f.Properties.Environment?.Variables?.ENTERPRISE_TOKEN_PARAMETER_NAME === TOKEN_PARAMETER);
    expect(withVariable).toHaveLength(4);
  });

  test('with a key of one\'s own, those four may decrypt that parameter only, through SSM', () => {
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000';
    const keyed = synth([shared], (stack) => ({ github: { ...github, secretsEncryptionKey: kms.Key.fromKeyArn(stack, 'Key', keyArn) } }));
    expect(rolesAllowed(keyed, 'kms:Decrypt', 'github-enterprise/token')).toEqual(FOUR_CALLERS);
  });

  test('without github.enterprise no function may read an enterprise credential, and there is no output for one', () => {
    const plain = synth([orgConfig], { github: { url: 'https://ghes.example.com', appId: '12' } });
    expect(rolesAllowed(plain, 'ssm:GetParameter', 'github-enterprise')).toEqual([]);
    expect(Object.keys(plain.findOutputs('RunnersEnterpriseTokenParameter'))).toEqual([]);
  });
});

describe('synth refuses', () => {
  function errors(configs: RunnerConfig[], props: Partial<EphemeralRunnersProps>): string {
    try {
      synth(configs, props);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected synth to fail');
  }

  test('an enterprise config without github.enterprise, naming the prop and the fix', () => {
    expect(errors([shared], { github: { url: 'https://ghes.example.com', appId: '12' } }))
      .toMatch(/runner config 'shared' has scope RunnerScope\.ENTERPRISE but github\.enterprise is not set; give the enterprise's slug/);
  });

  test('an enterprise slug that is not one', () => {
    expect(errors([shared], { github: { ...github, enterprise: 'octo enterprise/' } })).toMatch(/github\.enterprise 'octo enterprise\/' is not an enterprise slug/);
  });

  test('a runner group given by name and by id, and a name that is not one', () => {
    const message = errors([
      { ...orgConfig, runnerGroup: 'builders', runnerGroupId: 3 },
      { ...shared, name: 'blank', labels: ['blank'], runnerGroup: ' padded ' },
    ], { github });
    expect(message).toMatch(/runner config 'org-only' \(runnerConfigs\[0\]\): runnerGroup 'builders' and runnerGroupId 3 are both set; give the group by name or by id, not both/);
    expect(message).toMatch(/runner config 'blank' \(runnerConfigs\[1\]\): runnerGroup " padded " is not a runner group name/);
  });
});

describe('the App for enterprise runners', () => {
  test('needs no runner permission (the enterprise credential registers them) and is installable by every organization', () => {
    expect(appPermissions(['enterprise'])).toEqual({ actions: 'write', metadata: 'read' });
    const manifest = (scopes: Array<'enterprise' | 'org'>) => appManifest({ name: 'r', webhookUrl: 'https://h/w', redirectUrl: 'https://h/s', scopes, forUser: false });
    expect(manifest(['enterprise', 'org']).public).toBe(true);
    expect(manifest(['org']).public).toBe(false);
  });
});
