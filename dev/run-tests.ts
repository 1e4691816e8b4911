import { spawn } from 'node:child_process';
import { devTrustBundle } from './certs';

// `npm test`: the https doubles use a self-signed certificate that Node must trust from
// start-up (NODE_EXTRA_CA_CERTS is read once), so the test runner is started with it set.
async function main(): Promise<void> {
  const bundle = await devTrustBundle('.local/certs');
  const targets = process.argv.slice(2);
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...(targets.length ? targets : ['dist/tests/'])], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
