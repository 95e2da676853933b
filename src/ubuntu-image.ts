// Canonical's public SSM parameters holding the newest Ubuntu Server AMI, per release and architecture.

/**
 * Canonical names the parameters `ubuntu/server/<release>/stable/current/<arch>/hvm/<volume>/ami-id`
 * with the root volume type `ebs-gp3` for releases 23.10 and later and `ebs-gp2` for 23.04 and
 * earlier ("Find Ubuntu images on AWS",
 * https://documentation.ubuntu.com/aws/aws-how-to/instances/find-ubuntu-images/): a 22.04 name with
 * ebs-gp3 does not exist.
 */
const ROOT_VOLUME = new Map([
  ['24.04', 'ebs-gp3'],
  ['22.04', 'ebs-gp2'],
]);

/** The parameter naming the newest Ubuntu Server `release` AMI for `arch` (Canonical's architecture names). */
export function canonicalUbuntuParameter(release: string, arch: 'amd64' | 'arm64'): string {
  const volume = ROOT_VOLUME.get(release);
  if (!volume) throw new Error(`no Canonical SSM parameter is known for Ubuntu ${release}; use one of ${[...ROOT_VOLUME.keys()].join(', ')}`);
  return `/aws/service/canonical/ubuntu/server/${release}/stable/current/${arch}/hvm/${volume}/ami-id`;
}
