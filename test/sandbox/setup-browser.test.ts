// The setup page in a real browser: headless Chromium (the system's `chromium`, driven by playwright-core,
// no browser download) opens the stack's SetupUrl, creates the App on the simulated GHES by the manifest
// flow, installs it, and a job then runs on the credentials the page stored — none were seeded. The
// screenshots go to $SETUP_SCREENSHOTS (docs/images for the docs' copies) or a temporary folder.
// Needs Debian's chromium: CI installs it and fails without it; elsewhere the test is skipped with one line when it is missing.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { setupScenario, status } from './setup-flow';
import { startSandbox } from '../../sandbox/system';

jest.setTimeout(600_000);

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => fs.existsSync(file));
if (!CHROMIUM && !process.env.CI) process.stderr.write('chromium is not installed: the setup page\'s browser test is skipped (apt-get install chromium)\n');
const withChromium = CHROMIUM || process.env.CI ? test : test.skip;

const scenario = setupScenario('setup-browser', 22);

withChromium('an operator creates and installs the App through the setup page in Chromium; a job then runs on what it stored', async () => {
  if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install chromium (CI drives the setup page with it)');
  const shots = process.env.SETUP_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'setup-shots-'));
  fs.mkdirSync(shots, { recursive: true });
  const sandbox = await startSandbox(scenario, { withApp: false });
  // Chromium refuses to run as root without --no-sandbox (CI containers run as root).
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const shot = (name: string) => page.screenshot({ path: path.join(shots, `setup-${name}.png`), fullPage: true });

    await page.goto(sandbox.setupUrl!);
    await page.fill('#owner', sandbox.org);
    await shot('1-form');
    await page.click('button[type=submit]');
    await page.waitForSelector('text=will show the App');
    await shot('2-confirm');
    // On to the GHES: its page of the manifest flow, where the operator creates the App.
    await page.click('button[type=submit]');
    await page.waitForSelector('#create');
    await page.click('#create');
    // GitHub's redirect back to the setup page, which exchanges the code and stores the credentials.
    await page.waitForSelector('#install');
    expect(await page.textContent('h1')).toBe('The GitHub App is ready');
    await shot('3-done');
    await page.click('#install');
    await page.click('#install');
    await page.waitForSelector('#installed');

    const jobId = sandbox.ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 10_000);
    expect((await sandbox.ghes.waitForJob(jobId)).conclusion).toBe('success');
    const result = await status(sandbox);
    expect(result.json!.checks.filter((c) => !c.ok)).toEqual([]);
  } finally {
    await browser.close();
    await sandbox.stop();
  }
});
