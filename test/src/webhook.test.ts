import { Match } from 'aws-cdk-lib/assertions';
import { synthRunners } from './support/synth';
import { webhookTimeBudget, WEBHOOK_TIME_BUDGETS } from '../../src/webhook-time-budget';

/** The webhook function's timeout for a GitHub server of this hostname. */
function webhookTimeout(githubHost: string): number {
  const template = synthRunners([{ name: 'linux-x64', labels: ['linux', 'x64'] }], { github: { url: `https://${githubHost}`, appId: '12' } });
  const functions = Object.values(template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'webhook' }) } },
  }));
  expect(functions).toHaveLength(1);
  return functions[0].Properties.Timeout as number;
}

describe('the webhook answers within the time its GitHub host waits', () => {
  test('github.com waits 10 s: the function times out at 7 s, leaving room for a cold start and the network', () => {
    expect(webhookTimeout('github.com')).toBe(7);
    expect(webhookTimeout('octo.ghe.com')).toBe(7); // GHE.com (data residency) is github.com's service
  });

  test('GHES waits 30 s: the function may take 25 s, inside API Gateway\'s 29 s as well', () => {
    expect(webhookTimeout('ghes.example.com')).toBe(25);
  });

  test('every budget answers before its host gives up, even at the timeout and after a slow cold start', () => {
    const coldStartAndNetworkMs = 2_500;
    for (const budget of Object.values(WEBHOOK_TIME_BUDGETS)) {
      expect(budget.functionTimeoutSeconds * 1000 + coldStartAndNetworkMs).toBeLessThanOrEqual(budget.githubWaitSeconds * 1000);
      expect(budget.functionTimeoutSeconds).toBeLessThan(29); // the private REST API's integration timeout
      // Each AWS call gives up well before the handler must answer, so a stalled one can be retried.
      expect(budget.awsRequestTimeoutMs).toBeLessThan(budget.functionTimeoutSeconds * 1000 - budget.answerMarginMs);
    }
    expect(webhookTimeBudget('GitHub.com').hostKind).toBe('github.com');
  });
});
