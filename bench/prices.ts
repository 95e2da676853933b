// The list prices the cost model uses: us-east-1, on-demand, in USD, each with the page that states it (AWS's own
// pricing page where it holds the figure in its text, else the page the figure was read from) and the day it was
// read. AWS's pricing pages render most rates client-side, so a stored copy often lacks the figure: `readFrom`
// then names the third-party page that quotes it, and `unconfirmed` marks a figure no page read here stated.
// Free tiers are left out on purpose: the model prices an account that has used them up.

export interface Price {
  readonly usd: number;
  readonly unit: string;
  /** The page of record for this price. */
  readonly source: string;
  /** Where the figure was read, when not on `source` itself. */
  readonly readFrom?: string;
  readonly readOn: string;
  /** No page read on `readOn` stated this figure: it is the well-known list price, to confirm before relying on it. */
  readonly unconfirmed?: true;
}

const READ_ON = '2026-12-07';
const price = (usd: number, unit: string, source: string, readFrom?: string, unconfirmed?: true): Price =>
  ({ usd, unit, source, ...(readFrom ? { readFrom } : {}), readOn: READ_ON, ...(unconfirmed ? { unconfirmed } : {}) });

export const PRICES = {
  lambdaRequest: price(0.20 / 1e6, 'request', 'https://aws.amazon.com/lambda/pricing/',
    'https://raw.githubusercontent.com/api-evangelist/aws-lambda/refs/heads/main/plans/aws-lambda-plans-pricing.yml'),
  lambdaArmGbSecond: price(0.0000133334, 'GB-second (arm64, first 7.5 billion GB-s a month)', 'https://aws.amazon.com/lambda/pricing/',
    'https://cloudchipr.com/blog/aws-lambda-pricing'),
  lambdaX86GbSecond: price(0.0000166667, 'GB-second (x86_64, first 6 billion GB-s a month)', 'https://aws.amazon.com/lambda/pricing/',
    'https://cloudchipr.com/blog/aws-lambda-pricing'),
  httpApiRequest: price(1.00 / 1e6, 'request (first 300 million a month; metered in 512 KB increments)',
    'https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html'),
  restApiRequest: price(3.50 / 1e6, 'request (first 333 million a month)',
    'https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html'),
  dynamoWriteRequestUnit: price(0.625 / 1e6, 'write request unit (on-demand)', 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    'https://airbyte.com/data-engineering-resources/dynamodb-pricing'),
  dynamoReadRequestUnit: price(0.125 / 1e6, 'read request unit (on-demand)', 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    'https://airbyte.com/data-engineering-resources/dynamodb-pricing'),
  dynamoStorageGbMonth: price(0.25, 'GB-month (Standard table class)', 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    'https://gist.github.com/allenheltondev/d028926b7fe3b0656c96af9140ab55e3'),
  dynamoPitrGbMonth: price(0.20, 'GB-month (point-in-time recovery)', 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    'https://gist.github.com/allenheltondev/d028926b7fe3b0656c96af9140ab55e3'),
  sqsStandardRequest: price(0.40 / 1e6, 'request (64 KB chunk)', 'https://aws.amazon.com/sqs/pricing/', 'https://cloudburn.io/blog/amazon-sqs-pricing'),
  sqsFifoRequest: price(0.50 / 1e6, 'request (64 KB chunk)', 'https://aws.amazon.com/sqs/pricing/', 'https://cloudburn.io/blog/amazon-sqs-pricing'),
  cloudwatchAlarm: price(0.10, 'standard-resolution alarm-month', 'https://aws.amazon.com/cloudwatch/pricing/',
    'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/'),
  cloudwatchDashboard: price(3.00, 'dashboard-month (an account\'s first 3 dashboards of up to 50 metrics are free)', 'https://aws.amazon.com/cloudwatch/pricing/',
    'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/'),
  cloudwatchCustomMetric: price(0.30, 'metric-month (first 10,000; prorated by the hour a metric is published)', 'https://aws.amazon.com/cloudwatch/pricing/',
    'https://signoz.io/guides/cloudwatch-pricing'),
  logsIngestionGb: price(0.50, 'GB ingested (standard log class)', 'https://aws.amazon.com/cloudwatch/pricing/',
    'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/'),
  logsStorageGbMonth: price(0.03, 'GB-month archived', 'https://aws.amazon.com/cloudwatch/pricing/', undefined, true),
  ebsGp3GbMonth: price(0.08, 'GB-month provisioned (gp3; 3,000 IOPS and 125 MB/s included; billed per second, 60 s minimum)',
    'https://aws.amazon.com/ebs/pricing/', undefined, true),
  ebsSnapshotGbMonth: price(0.05, 'GB-month stored (Standard tier, changed blocks only)', 'https://aws.amazon.com/ebs/pricing/', undefined, true),
  publicIpv4Hour: price(0.005, 'public IPv4 address-hour (in use or idle, since 2024-02-01)',
    'https://aws.amazon.com/blogs/networking-and-content-delivery/identify-and-optimize-public-ipv4-address-usage-on-aws/',
    'https://www.doit.com/aws-public-ipv4-price-increase-the-complete-guide/'),
  ec2OnDemandHour: {
    'm7i.large': price(0.1008, 'instance-hour, Linux, on-demand (billed per second, 60 s minimum per start)', 'https://aws.amazon.com/ec2/pricing/on-demand/', undefined, true),
    'm6i.large': price(0.096, 'instance-hour, Linux, on-demand (billed per second, 60 s minimum per start)', 'https://aws.amazon.com/ec2/pricing/on-demand/', undefined, true),
    'm6a.large': price(0.0864, 'instance-hour, Linux, on-demand (billed per second, 60 s minimum per start)', 'https://aws.amazon.com/ec2/pricing/on-demand/', undefined, true),
  } as Record<string, Price>,
  /** AWS service events (EC2 state changes, scheduled rules) on the default bus: no charge. */
  eventBridgeServiceEvent: price(0, 'AWS service event on the default bus', 'https://aws.amazon.com/eventbridge/pricing/',
    'https://www.wring.co/blog/aws-eventbridge-pricing-guide'),
  /** Standard-tier parameters and standard throughput: no charge. */
  ssmStandardParameter: price(0, 'standard parameter-month and standard-throughput API call', 'https://aws.amazon.com/systems-manager/pricing/', undefined, true),
  /** EC2 Image Builder itself: no charge; the instances and snapshots it makes bill as EC2 and EBS. */
  imageBuilder: price(0, 'pipeline run', 'https://aws.amazon.com/image-builder/pricing/', undefined, true),
} as const;

export type PriceTable = typeof PRICES;
