import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawnManaged, waitForPort, type Log } from './process.ts';
import type { ServiceDefinition } from './supervisor.ts';

/**
 * MailDev 2 (SMTP + web inbox + REST API at /email) as a child process: its library entry installs its own
 * SIGINT handler that exits the process, so it cannot live inside the launcher. Both listeners on loopback.
 */
export function mailDevDefinition(opts: { smtpPort: number; webPort: number; dataDir?: string; log?: Log }): ServiceDefinition {
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve('maildev/package.json')), 'bin', 'maildev');
  const args = [
    bin,
    '--smtp',
    String(opts.smtpPort),
    '--web',
    String(opts.webPort),
    '--ip',
    '127.0.0.1',
    '--web-ip',
    '127.0.0.1',
    '--silent',
  ];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push('--mail-directory', opts.dataDir);
  }
  return {
    name: 'mail',
    spawn: () => spawnManaged('maildev', process.execPath, args, { log: opts.log, dieWithParent: true }),
    ready: async (proc) => {
      try {
        await waitForPort(opts.smtpPort, '127.0.0.1', 20_000, proc.exited);
        await waitForPort(opts.webPort, '127.0.0.1', 20_000, proc.exited);
      } catch (err) {
        throw new Error(`MailDev did not start (SMTP ${opts.smtpPort}, web ${opts.webPort}): ${(err as Error).message}`);
      }
    },
  };
}
