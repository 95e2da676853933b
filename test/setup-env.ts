// Every CDK app a test synthesizes references the function bundles where they are instead of copying
// them (tens of MB) into a fresh cdk.out each time: CDK's own switch for this, the
// `aws:cdk:disable-asset-staging` context, given as an app reads context from the environment. The
// consumer test (test/consumer/) synthesizes with staging, as a user's `cdk synth` does.
process.env.CDK_CONTEXT_JSON = JSON.stringify({
  ...JSON.parse(process.env.CDK_CONTEXT_JSON ?? '{}') as Record<string, unknown>,
  'aws:cdk:disable-asset-staging': true,
});
