import { isSignatureValid } from '../../../lambda/webhook/signature';

// The test vector from GitHub's "Validating webhook deliveries".
const SECRET = "It's a Secret to Everybody";
const PAYLOAD = 'Hello, World!';
const SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

describe('the webhook signature', () => {
  test("GitHub's documented test vector verifies", async () => {
    expect(await isSignatureValid(SECRET, PAYLOAD, SIGNATURE)).toBe(true);
  });

  test.each([
    ['another body', SECRET, 'Hello, World?', SIGNATURE],
    ['another secret', 'secret', PAYLOAD, SIGNATURE],
    ['upper-case hex', SECRET, PAYLOAD, SIGNATURE.toUpperCase()],
    ['no sha256= prefix', SECRET, PAYLOAD, SIGNATURE.slice(7)],
    ['a truncated signature', SECRET, PAYLOAD, SIGNATURE.slice(0, -1)],
    ['an empty signature', SECRET, PAYLOAD, ''],
    ['an empty body', SECRET, '', SIGNATURE],
    ['an empty secret', '', PAYLOAD, SIGNATURE],
  ])('%s does not verify, without throwing', async (_, secret, payload, signature) => {
    expect(await isSignatureValid(secret, payload, signature)).toBe(false);
  });
});
