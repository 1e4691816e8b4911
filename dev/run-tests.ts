import { spawn } from 'node:child_process';
import path from 'node:path';
import { devTrustBundle } from './certs';
import { ensureChromium } from './chromium';
import { testFiles } from './test-files';

// `npm test`: the https doubles use a self-signed certificate that Node must trust from
// start-up (NODE_EXTRA_CA_CERTS is read once), so the test runner is started with it set.
async function main(): Promise<void> {
  const targets = process.argv.slice(2);
  const files = testFiles(targets.length ? targets : ['dist/tests']);
  if (files.length === 0) {
    console.error(`no *.test.js under ${targets.join(' ') || 'dist/tests'}`);
    process.exit(1);
  }
  if (files.some((f) => f.split(path.sep).includes('browser'))) {
    const missing = ensureChromium();
    if (missing) {
      console.error(missing);
      process.exit(1);
    }
  }
  const bundle = await devTrustBundle('.local/certs');
  // process.execPath: the runner and every test process are the Node that started this script.
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
