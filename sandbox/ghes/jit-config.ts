// The encoded JIT config handed to `run.sh --jitconfig`. Like the real one it is base64 of a JSON map
// from file name (.runner, .credentials, .credentials_rsaparams) to that file's base64 content. The
// real runner proves itself with the RSA key in .credentials_rsaparams; the simulated one carries a
// shared secret there instead, which the runner service checks on connect.
import { JitConfigError } from './errors';
import { RunnerRecord } from './model';

/** What a simulated runner needs from its config. */
export interface JitRunnerSettings {
  readonly agentId: number;
  readonly agentName: string;
  readonly poolId: number;
  /** The runner service: `http://127.0.0.1:PORT/_runner`. */
  readonly serverUrl: string;
  readonly gitHubUrl: string;
  readonly workFolder: string;
  readonly secret: string;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

export function encodeJitConfig(runner: RunnerRecord, serverUrl: string, gitHubUrl: string): string {
  const files = {
    '.runner': b64({
      agentId: runner.id,
      agentName: runner.name,
      poolId: runner.groupId,
      poolName: 'Default',
      serverUrl,
      gitHubUrl,
      workFolder: runner.workFolder,
      ephemeral: true,
      disableUpdate: false,
      useV2Flow: true,
    }),
    '.credentials': b64({
      scheme: 'OAuth',
      data: { clientId: `runner-${runner.id}`, authorizationUrl: `${serverUrl}/oauth2/token`, requireFipsCryptography: 'False' },
    }),
    '.credentials_rsaparams': b64({ simulatedSecret: runner.secret }),
  };
  return b64(files);
}

export function decodeJitConfig(encoded: string): JitRunnerSettings {
  try {
    const files = JSON.parse(Buffer.from(encoded.trim(), 'base64').toString('utf8')) as Record<string, string>;
    const file = (name: string): Record<string, unknown> => {
      if (typeof files[name] !== 'string') throw new JitConfigError(`the JIT config has no ${name} file`);
      return JSON.parse(Buffer.from(files[name], 'base64').toString('utf8')) as Record<string, unknown>;
    };
    const runner = file('.runner');
    const rsa = file('.credentials_rsaparams');
    file('.credentials');
    const settings = {
      agentId: runner.agentId,
      agentName: runner.agentName,
      poolId: runner.poolId,
      serverUrl: runner.serverUrl,
      gitHubUrl: runner.gitHubUrl,
      workFolder: runner.workFolder,
      secret: rsa.simulatedSecret,
    };
    if (typeof settings.agentId !== 'number' || typeof settings.serverUrl !== 'string' || typeof settings.secret !== 'string') {
      throw new JitConfigError('the JIT config lacks agentId, serverUrl or the credentials');
    }
    return settings as JitRunnerSettings;
  } catch (err) {
    if (err instanceof JitConfigError) throw err;
    throw new JitConfigError('the JIT config is not base64 of a JSON map of runner files', { cause: err });
  }
}
