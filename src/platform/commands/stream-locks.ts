/**
 * Single-flight per stream inside one process: commands that write the same stream queue up instead of racing
 * to the optimistic check and retrying with backoff (a hot product's inventory). Across processes the
 * conditional append stays the guard. Locks are taken in sorted order, so two multi-stream commands never wait
 * for each other in a cycle.
 */
export interface StreamLock {
  /** True when another command held one of the streams: the decision taken before is stale, decide again. */
  waited: boolean;
  holds: (id: string) => boolean;
  /** Whether a command is queued behind this one on the stream. */
  contended: (id: string) => boolean;
  release: () => void;
}

export function createStreamLocks() {
  /** Present = held; the array holds the waiters, first come first served. */
  const queues = new Map<string, Array<() => void>>();

  async function lockOne(id: string): Promise<boolean> {
    const waiting = queues.get(id);
    if (!waiting) {
      queues.set(id, []);
      return false;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
    return true;
  }

  function unlockOne(id: string): void {
    const waiting = queues.get(id);
    if (!waiting) return;
    const next = waiting.shift();
    if (next) next();
    else queues.delete(id);
  }

  return {
    async acquire(streamIds: Iterable<string>): Promise<StreamLock> {
      const ids = [...new Set(streamIds)].sort();
      let waited = false;
      for (const id of ids) if (await lockOne(id)) waited = true;
      const held = new Set(ids);
      let released = false;
      return {
        waited,
        holds: (id) => held.has(id),
        contended: (id) => (queues.get(id)?.length ?? 0) > 0,
        release: () => {
          if (released) return;
          released = true;
          for (const id of ids) unlockOne(id);
        },
      };
    },
    /** Streams held right now (tests, metrics). */
    held: () => queues.size,
  };
}
