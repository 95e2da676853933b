// Limits the runtime relies on, enforced as EC2 enforces them: a CreateFleet ClientToken is at most
// 64 ASCII characters (ec2-api-idempotency.html), user data at most 16 KB before base64
// (instancedata-add-user-data.html).
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator } from './helpers';
import { Ec2ApiError, Ec2Simulator, MAX_USER_DATA_BYTES } from '../../../sandbox/ec2';

describe('EC2 limits', () => {
  let sim: Ec2Simulator;

  beforeAll(async () => {
    sim = await startSimulator();
  });

  afterAll(async () => {
    await sim.stop();
  });

  describe('CreateFleet ClientToken', () => {
    test('64 ASCII characters are accepted and launch', async () => {
      const ec2 = ec2Client(sim);
      const lt = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'token-ok' }).launchTemplateId;

      const result = await createFleet(ec2, fleetInput(lt, 1, { ClientToken: 't'.repeat(64) }));

      expect(result.Instances!.flatMap((i) => i.InstanceIds)).toHaveLength(1);
      ec2.destroy();
    });

    test.each([
      ['65 characters', 't'.repeat(65)],
      ['a non-ASCII character', `pool-${'é'}-1`],
    ])('a token of %s is refused with InvalidParameterValue and launches nothing', async (_what, token) => {
      const ec2 = ec2Client(sim);
      const lt = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: `token-${token.length}` }).launchTemplateId;
      const before = sim.instances().length;

      const error = await createFleet(ec2, fleetInput(lt, 1, { ClientToken: token })).then(() => undefined, (e: EC2ServiceException) => e);

      expect(error).toBeInstanceOf(EC2ServiceException);
      expect(error!.name).toBe('InvalidParameterValue');
      expect(error!.$metadata.httpStatusCode).toBe(400);
      expect(sim.instances()).toHaveLength(before);
      ec2.destroy();
    });
  });

  describe('launch template user data', () => {
    test('16 KB of user data is accepted and served to the instance as is', () => {
      const userData = `#!/bin/bash\n${'#'.repeat(MAX_USER_DATA_BYTES - 12)}`;

      const version = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'user-data-16k', userData });

      expect(Buffer.byteLength(userData)).toBe(16_384);
      expect(version.data.userData).toBe(userData);
    });

    test('one byte more is refused with EC2\'s InvalidParameterValue', () => {
      const userData = `#!/bin/bash\n${'#'.repeat(MAX_USER_DATA_BYTES - 11)}`;

      const refuse = () => sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'user-data-too-big', userData });

      expect(refuse).toThrow(Ec2ApiError);
      expect(refuse).toThrow('User data is limited to 16384 bytes');
      // The refused template does not exist: its name is still free.
      expect(() => sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'user-data-too-big' })).not.toThrow();
    });

    test('the limit counts bytes, not characters: 8,193 two-byte characters are too many', () => {
      expect(() => sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'user-data-utf8', userData: 'é'.repeat(8193) }))
        .toThrow('User data is limited to 16384 bytes');
    });
  });
});
