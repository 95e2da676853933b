import { handler } from '../../../lambda/handlers/webhook';
import { WEBHOOK_ENVIRONMENT } from '../../../src/contracts/environment';
import { deliveryEvent } from '../support/deliveries';
import { capturePrinted } from '../support/in-memory-ports';


describe('the webhook function entry point', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('an incomplete environment answers 500 naming every missing variable, touching no AWS service', async () => {
    for (const { name } of Object.values(WEBHOOK_ENVIRONMENT)) delete process.env[name];
    process.env[WEBHOOK_ENVIRONMENT.tableName.name] = 'state';

    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const printed = await capturePrinted(async () => {
      result = await handler(deliveryEvent('{}', { secret: 's' }));
    });

    expect(result?.statusCode).toBe(500);
    const { message } = JSON.parse(result!.body!) as { message: string };
    // In the contract's order (WEBHOOK_ENVIRONMENT).
    expect(message).toContain('QUEUE_URL, GITHUB_HOST, WEBHOOK_SECRET_PARAMETER_NAME, RUNNER_CONFIG_PATH, RUNNER_NAME_PREFIX');
    expect(message).not.toContain('TABLE_NAME');
    expect(printed.join('')).toContain('"message":"function environment incomplete"');
  });
});
