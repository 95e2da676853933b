import { handler } from '../../../lambda/handlers/webhook';
import { deliveryEvent } from '../support/deliveries';
import { capturePrinted } from '../support/in-memory-ports';

const VARIABLES = ['TABLE_NAME', 'QUEUE_URL', 'WEBHOOK_SECRET_PARAMETER_NAME', 'RUNNER_CONFIG_PATH', 'GITHUB_HOST', 'RUNNER_NAME_PREFIX'];

describe('the webhook function entry point', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('an incomplete environment answers 500 naming every missing variable, touching no AWS service', async () => {
    for (const name of VARIABLES) delete process.env[name];
    process.env.TABLE_NAME = 'state';

    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const printed = await capturePrinted(async () => {
      result = await handler(deliveryEvent('{}', { secret: 's' }));
    });

    expect(result?.statusCode).toBe(500);
    const { message } = JSON.parse(result!.body!) as { message: string };
    expect(message).toContain('QUEUE_URL, WEBHOOK_SECRET_PARAMETER_NAME, RUNNER_CONFIG_PATH, GITHUB_HOST, RUNNER_NAME_PREFIX');
    expect(message).not.toContain('TABLE_NAME');
    expect(printed.join('')).toContain('"message":"function environment incomplete"');
  });
});
