// The package's command (package.json `bin`), bundled into assets/cli/ like the functions.
import { main } from './main';

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
  console.error(e.stack ?? String(e));
  process.exitCode = 3;
});
