import { TEST_CA_BUNDLE } from './support/test-ca';
import { pemBundleProblem } from '../../src/pem';

describe('a CA bundle given as PEM', () => {
  test('two certificates that parse as X.509 are accepted', () => {
    expect(pemBundleProblem('caCertificatesPem', TEST_CA_BUNDLE)).toBeUndefined();
  });

  test('text without any PEM block is refused with what to give', () => {
    expect(pemBundleProblem('caCertificatesPem', 'not a certificate')).toMatch(/^caCertificatesPem holds no PEM block; give one or more PEM certificates/);
  });

  test('a private key pasted beside the certificate is refused, so it never reaches the template', () => {
    const withKey = `${TEST_CA_BUNDLE}-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n`;
    expect(pemBundleProblem('github.caCertificatesPem', withKey)).toMatch(/^github\.caCertificatesPem holds PRIVATE KEY block\(s\), which must not be shared/);
  });

  test('a block labelled CERTIFICATE that is not one is refused, naming which', () => {
    const broken = `${TEST_CA_BUNDLE}-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYWJjZGVm\n-----END CERTIFICATE-----\n`;
    expect(pemBundleProblem('caCertificatesPem', broken)).toMatch(/^caCertificatesPem: certificate 3 of 3 does not parse/);
  });

  test('text outside the blocks is refused', () => {
    expect(pemBundleProblem('caCertificatesPem', `corporate root\n${TEST_CA_BUNDLE}`)).toMatch(/holds text outside its PEM blocks \('corporate root'\)/);
  });
});
