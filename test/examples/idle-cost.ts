// Resources that cost money while no job runs, each with the reason, for the examples' tests.

type Resource = { Type: string; Properties?: Record<string, unknown> };

const IDLE_COST_RULES: Array<{ matches: (r: Resource) => boolean; why: string }> = [
  { matches: (r) => r.Type === 'AWS::EC2::NatGateway', why: 'a NAT gateway bills by the hour' },
  { matches: (r) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface', why: 'an interface endpoint bills by the hour and AZ' },
  { matches: (r) => r.Type === 'AWS::EC2::EIP', why: 'a public IPv4 address bills by the hour' },
  { matches: (r) => r.Type === 'AWS::EC2::Instance' || r.Type === 'AWS::EC2::SpotFleet' || r.Type === 'AWS::EC2::EC2Fleet', why: 'always-on compute' },
  { matches: (r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup' && Number(r.Properties?.MinSize ?? 0) > 0, why: 'an Auto Scaling group with a minimum keeps instances running' },
  { matches: (r) => r.Type.startsWith('AWS::ElasticLoadBalancing'), why: 'a load balancer bills by the hour' },
  {
    matches: (r) => r.Type === 'AWS::ECS::Service' || r.Type.startsWith('AWS::EKS::') || r.Type.startsWith('AWS::RDS::') || r.Type.startsWith('AWS::ElastiCache::'),
    why: 'always-on compute or databases',
  },
  { matches: (r) => (r.Type === 'AWS::Lambda::Version' || r.Type === 'AWS::Lambda::Alias') && r.Properties?.ProvisionedConcurrencyConfig !== undefined, why: 'provisioned concurrency bills by the hour' },
  { matches: (r) => r.Type === 'AWS::DynamoDB::Table' && r.Properties?.BillingMode !== 'PAY_PER_REQUEST', why: 'provisioned table capacity bills by the hour' },
  { matches: (r) => r.Type === 'AWS::KMS::Key', why: 'a customer-managed KMS key bills by the month; only when asked for' },
  { matches: (r) => r.Type === 'AWS::EC2::TransitGateway' || r.Type === 'AWS::EC2::ClientVpnEndpoint', why: 'bills by the hour' },
  { matches: (r) => r.Type === 'AWS::Kinesis::Stream', why: 'a provisioned stream bills by the shard hour' },
];

/** `<logical id> (<type>): <why>` for every resource of the template that costs while idle. */
export function idleCosts(template: Record<string, unknown>): string[] {
  const resources = (template.Resources ?? {}) as Record<string, Resource>;
  return Object.entries(resources).flatMap(([id, r]) => IDLE_COST_RULES.filter((rule) => rule.matches(r)).map((rule) => `${id} (${r.Type}): ${rule.why}`));
}
