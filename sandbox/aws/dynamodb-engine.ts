// The sandbox's DynamoDB: dynalite, in a process of its own. Every function, simulator and the driver share the sandbox's one event loop; the table
// engine is the largest single consumer of it, so on its own core it takes its work off the loop that measures latency.
import { spawn } from 'child_process';
import { CreateTableCommand, CreateTableCommandInput, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

export type DynamoEngine = Awaited<ReturnType<typeof startDynamoEngine>>;

const SERVER = `
const server = require(process.env.DYNALITE_MODULE)({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.keepAliveTimeout = 120000; // as DynamoDB keeps idle connections (see ../common/http.ts)
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

export async function startDynamoEngine() {
  const child = spawn(process.execPath, ['-e', SERVER], {
    env: { PATH: process.env.PATH, DYNALITE_MODULE: require.resolve('dynalite') },
    // The IPC channel closes when this process dies, however it dies: the engine goes with it.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(Number(output.trim()));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the DynamoDB engine (dynalite) exited with code ${code} before listening`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    /** `http://127.0.0.1:<port>` */
    endpoint,
    /** Creates a table, once ACTIVE: dynalite, like DynamoDB, answers CREATING and refuses item operations (ResourceNotFoundException) until then. */
    async createTable(input: CreateTableCommandInput): Promise<void> {
      const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'engine', secretAccessKey: 'engine' } });
      try {
        await client.send(new CreateTableCommand(input));
        for (let waited = 0; ; waited += 5) {
          const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
          if (Table?.TableStatus === 'ACTIVE') return;
          if (waited > 10_000) throw new Error(`table ${input.TableName} is still ${Table?.TableStatus} after 10 s`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        client.destroy();
      }
    },
    async stop(): Promise<void> {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
