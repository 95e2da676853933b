// Two self-signed CA certificates (made with openssl for these tests only; their keys were thrown away).
import * as fs from 'fs';
import * as path from 'path';

export const TEST_CA_BUNDLE = fs.readFileSync(path.join(__dirname, 'test-ca.pem'), 'utf8');
/** The first certificate's first line of base64, to find it in a template. */
export const TEST_CA_FIRST_LINE = TEST_CA_BUNDLE.split('\n')[1];
