// The GitHub server's private CA for the functions: a layer holding only the PEM bundle, written at
// synth time, which Node.js reads at start (NODE_EXTRA_CA_CERTS).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Where the layer puts the bundle: layers are extracted under /opt. */
export const CA_BUNDLE_PATH = '/opt/ephemeral-runners/ca-bundle.pem';

export function caBundleLayer(scope: Construct, pem: string): lambda.LayerVersion {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-runners-ca-'));
  fs.mkdirSync(path.join(dir, 'ephemeral-runners'));
  fs.writeFileSync(path.join(dir, 'ephemeral-runners', 'ca-bundle.pem'), `${pem.trim()}\n`);
  return new lambda.LayerVersion(scope, 'CaBundle', {
    code: lambda.Code.fromAsset(dir),
    description: 'CA certificates of the GitHub server, for NODE_EXTRA_CA_CERTS',
    compatibleArchitectures: [lambda.Architecture.ARM_64],
  });
}
