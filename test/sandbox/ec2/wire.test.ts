import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ec2Client, startSimulator } from './helpers';
import { Ec2Simulator } from '../../../sandbox/ec2';

describe('EC2 Query wire format', () => {
  let sim: Ec2Simulator;

  beforeAll(async () => {
    sim = await startSimulator();
  });

  afterAll(async () => {
    await sim.stop();
  });

  const post = (form: string) => fetch(sim.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });

  test('a success body is {Action}Response in the EC2 namespace with a lower-case requestId, also sent as x-amzn-requestid', async () => {
    const res = await post('Action=DescribeInstances&Version=2016-11-15');
    const body = await res.text();

    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-amzn-requestid')!;
    expect(body).toContain('<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">');
    expect(body).toContain(`<requestId>${requestId}</requestId>`);
    expect(body).toContain('<reservationSet/>');
  });

  test('an error is the Response/Errors/Error envelope with RequestID and no Type', async () => {
    const res = await post('Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-nope');
    const body = await res.text();

    expect(res.status).toBe(400);
    expect(body).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidInstanceID.Malformed</Code>' +
      `<Message>Invalid id: &quot;i-nope&quot; (expecting &quot;i-...&quot;)</Message></Error></Errors><RequestID>${res.headers.get('x-amzn-requestid')}</RequestID></Response>`);
  });

  test('an unknown action is InvalidAction, counted like any call', async () => {
    const unknown = await post('Action=LaunchRocket&Version=2016-11-15');

    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('<Code>InvalidAction</Code>');
    expect(sim.apiCalls().byAction).toMatchObject({ LaunchRocket: 1 });
  });

  test('the SDK reads the request id from the header', async () => {
    const ec2 = ec2Client(sim);

    const out = await ec2.send(new DescribeInstancesCommand({}));

    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    ec2.destroy();
  });
});
