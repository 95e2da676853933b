import { EventPattern, InvalidEventPatternError, matchesPattern, validatePattern } from '../../../sandbox/aws/eventbridge';

// The lifecycle construct's rules (src/lifecycle.ts), as EventBridge receives them.
const STATE_CHANGE: EventPattern = {
  'source': ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  'detail': { state: ['running', 'shutting-down', 'terminated', 'stopping', 'stopped'] },
};
const INTERRUPTION: EventPattern = { 'source': ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] };

function ec2Event(detailType: string, detail: Record<string, unknown>) {
  return {
    'version': '0',
    'id': '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': detailType,
    'source': 'aws.ec2',
    'account': '123456789012',
    'time': '2026-01-01T12:00:00Z',
    'region': 'us-east-1',
    'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-0abc'],
    detail,
  };
}

describe('EventBridge event patterns', () => {
  test.each([
    ['a running state change', 'matches', STATE_CHANGE, ec2Event('EC2 Instance State-change Notification', { 'instance-id': 'i-0abc', 'state': 'running' })],
    ['a pending state change', 'does not match', STATE_CHANGE, ec2Event('EC2 Instance State-change Notification', { 'instance-id': 'i-0abc', 'state': 'pending' })],
    ['a state change without a state', 'does not match', STATE_CHANGE, ec2Event('EC2 Instance State-change Notification', { 'instance-id': 'i-0abc' })],
    ['an interruption warning on the state rule', 'does not match', STATE_CHANGE, ec2Event('EC2 Spot Instance Interruption Warning', { 'instance-id': 'i-0abc', 'instance-action': 'terminate' })],
    ['an interruption warning', 'matches', INTERRUPTION, ec2Event('EC2 Spot Instance Interruption Warning', { 'instance-id': 'i-0abc', 'instance-action': 'terminate' })],
    ['another source', 'does not match', INTERRUPTION, { ...ec2Event('EC2 Spot Instance Interruption Warning', {}), source: 'custom.ec2' }],
  ])('%s %s the rule', (_what, verdict, pattern, event) => {
    expect(matchesPattern(pattern, event)).toBe(verdict === 'matches');
  });

  test.each([
    ['a value in an event array', { resources: ['arn:b'] }, { resources: ['arn:a', 'arn:b'] }, { resources: ['arn:a'] }],
    ['null', { detail: { x: [null] } }, { detail: { x: null } }, { detail: { x: 'null' } }],
    ['numbers are not strings', { detail: { n: [5] } }, { detail: { n: 5 } }, { detail: { n: '5' } }],
  ])('%s matches the one event and not the other', (_what, pattern, matching, other) => {
    validatePattern(pattern);

    expect(matchesPattern(pattern as EventPattern, matching)).toBe(true);
    expect(matchesPattern(pattern as EventPattern, other)).toBe(false);
  });

  test.each([
    ['an empty array', { source: [] }],
    ['a bare value', { source: 'aws.ec2' }],
    ['an operator the sandbox does not simulate', { source: [{ prefix: 'aws.' }] }],
    ['$or', { $or: [{ source: ['a'] }, { source: ['b'] }] }],
  ])('a pattern with %s is refused', (_what, pattern) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidEventPatternError);
  });
});
