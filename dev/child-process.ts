import type { ChildProcess } from 'node:child_process';

/** SIGTERM, then SIGKILL after `graceMs` if the process has not exited; resolves once it has. */
export async function stopChildProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(forced);
}
