// CloudFormation as the operator's commands and a custom resource meet it: DescribeStacks over the query protocol
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html), and the presigned URL a
// custom resource's function PUTs its answer to (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
import { randomUUID } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import { LoopbackService, readBody } from '../common/http';

export type StackOutput = { readonly OutputKey: string; readonly OutputValue: string };
/** What a custom resource's function answers. */
export type CustomResourceResponse = { readonly Status: 'SUCCESS' | 'FAILED'; readonly Reason?: string; readonly Data?: Record<string, string> };

const xml = (value: string) => value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export class CloudFormationSimulator extends LoopbackService {
  /** The stack's status, as DescribeStacks shows it: `DELETE_IN_PROGRESS` while its custom resources are deleted. */
  status = 'CREATE_COMPLETE';
  private readonly waiting = new Map<string, (response: CustomResourceResponse) => void>();

  constructor(
    private readonly stack: { readonly name: string; readonly id: string; readonly outputs: () => readonly StackOutput[] },
    /** IAM: a message refuses the call (AccessDenied). @default every call allowed */
    private readonly authorize?: (operation: string, input: Record<string, unknown>, auth: string | undefined) => Promise<string | undefined>,
  ) {
    super();
  }

  /** A presigned response URL for one request, and the answer the function PUTs to it. */
  responseUrl(): { url: string; response: Promise<CustomResourceResponse> } {
    const key = randomUUID();
    const response = new Promise<CustomResourceResponse>((resolve) => this.waiting.set(key, resolve));
    return { url: `${this.url}/cloudformation-custom-resource-response/${key}?X-Amz-Signature=sandbox`, response };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const answer = /^\/cloudformation-custom-resource-response\/([^/?]+)/.exec(req.url ?? '');
    if (req.method === 'PUT' && answer && this.waiting.has(answer[1])) {
      this.waiting.get(answer[1])!(JSON.parse(body) as CustomResourceResponse);
      this.waiting.delete(answer[1]);
      res.writeHead(200).end();
      return;
    }
    const params = new URLSearchParams(body);
    const send = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml' }).end(text);
    };
    const requestId = randomUUID();
    const name = params.get('StackName');
    if (params.get('Action') !== 'DescribeStacks') {
      return send(400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>The sandbox serves DescribeStacks only</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    }
    const denied = await this.authorize?.('DescribeStacks', { StackName: name }, req.headers.authorization);
    if (denied !== undefined) {
      return send(403, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${xml(denied)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    }
    if (name !== this.stack.name && name !== this.stack.id) {
      return send(400, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${xml(name ?? '')} does not exist</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    }
    const outputs = this.stack.outputs().map((o) => `<member><OutputKey>${xml(o.OutputKey)}</OutputKey><OutputValue>${xml(o.OutputValue)}</OutputValue></member>`).join('');
    send(200, '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>'
      + `<StackName>${xml(this.stack.name)}</StackName><StackId>${xml(this.stack.id)}</StackId><CreationTime>${new Date().toISOString()}</CreationTime>`
      + `<StackStatus>${this.status}</StackStatus><Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult>`
      + `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></DescribeStacksResponse>`);
  }
}
