// shellcheck over a shell script of the product. shellcheck is Debian's package: CI installs it and
// fails without it; elsewhere the lint runs when it is installed and is skipped with one line when not.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);

const shellcheck = ['/usr/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(path.delimiter)]
  .map((dir) => path.join(dir, 'shellcheck'))
  .find((file) => fs.existsSync(file));

/** Declares the test `shellcheck finds nothing in <what>` for `script`. */
export function shellcheckTest(what: string, script: string): void {
  if (!shellcheck && !process.env.CI) process.stderr.write(`shellcheck is not installed: the lint of ${what} is skipped (apt-get install shellcheck)\n`);
  (shellcheck || process.env.CI ? test : test.skip)(`shellcheck finds nothing in ${what}`, async () => {
    if (!shellcheck) throw new Error(`shellcheck is not installed: apt-get install shellcheck (CI lints ${what} with it)`);

    const result = await run(shellcheck, [script]).then(
      ({ stdout }) => ({ code: 0, findings: stdout }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code, findings: e.stdout }),
    );

    expect(result).toEqual({ code: 0, findings: '' });
  });
}
