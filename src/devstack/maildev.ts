import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawnManaged, waitForPort, type Log } from './process.ts';

export interface MailDev {
  smtpPort: number;
  webUrl: string;
  stop(): Promise<void>;
}

/**
 * MailDev 2 (SMTP + web inbox + REST API at /email) as a child process: its library entry installs its own
 * SIGINT handler that exits the process, so it cannot live inside the launcher.
 */
export async function startMailDev(opts: { smtpPort: number; webPort: number; dataDir?: string; log?: Log }): Promise<MailDev> {
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve('maildev/package.json')), 'bin', 'maildev');
  const args = [bin, '--smtp', String(opts.smtpPort), '--web', String(opts.webPort), '--ip', '127.0.0.1', '--silent'];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push('--mail-directory', opts.dataDir);
  }
  const proc = spawnManaged('maildev', process.execPath, args, { log: opts.log });
  try {
    await waitForPort(opts.smtpPort, '127.0.0.1', 20_000, proc.exited);
    await waitForPort(opts.webPort, '127.0.0.1', 20_000, proc.exited);
  } catch (err) {
    await proc.stop();
    throw new Error(`MailDev did not start (SMTP ${opts.smtpPort}, web ${opts.webPort}): ${(err as Error).message}`);
  }
  return { smtpPort: opts.smtpPort, webUrl: `http://127.0.0.1:${opts.webPort}`, stop: () => proc.stop() };
}
