import { readdirSync, readFileSync } from 'node:fs';

/**
 * The process table as Linux shows it in /proc: what the supervisor needs to find a wrapped server's real
 * process (the postmaster under `unshare`), a server left behind by a killed launcher, and zombies.
 */

/** Direct children of `pid` (empty if it is gone or /proc is unavailable). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** `pid` and everything below it, parents before children. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of childrenOf(p)) walk(c);
  };
  walk(pid);
  return out;
}

/** One-letter state (R, S, D, T, Z, …) and parent of a process, or undefined once it is reaped. */
export function processStatus(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Live processes whose argument vector contains every one of `args`, in any position. */
export function findProcesses(args: string[]): number[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    if (pid === process.pid) return false;
    const argv = commandLine(pid);
    return argv.length > 0 && args.every((a) => argv.includes(a)) && processStatus(pid)?.state !== 'Z';
  });
}

export function isAlive(pid: number): boolean {
  const status = processStatus(pid);
  return status !== undefined && status.state !== 'Z';
}
