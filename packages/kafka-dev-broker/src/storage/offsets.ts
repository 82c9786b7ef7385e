/**
 * Committed consumer-group offsets, plus the protocol type each group was created with (so ListGroups still
 * reports "consumer" for an idle group after a restart, as Kafka does from __consumer_offsets).
 * With a data directory every change is appended to `offsets.log` as one JSON line before the commit is
 * acknowledged; on start the log is replayed (a torn last line from a crash is skipped) and compacted.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

type LogLine =
  | { g: string; t: string; p: number; o: number; e: number; m: string | null }
  | { g: string; t: string; p: number; o: null }
  | { g: string; type: string };

const key = (topic: string, partition: number): string => `${partition}:${topic}`;

export class OffsetStore {
  private readonly offsets = new Map<string, Map<string, CommittedOffset & { topic: string; partition: number }>>();
  private readonly groupTypes = new Map<string, string>();
  private fd: number | null = null;

  constructor(dataDir: string | null, log: (line: string) => void) {
    if (!dataDir) return;
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'offsets.log');
    if (fs.existsSync(file)) this.replay(fs.readFileSync(file, 'utf8'), file, log);
    this.compact(file);
    this.fd = fs.openSync(file, 'a');
  }

  private replay(text: string, file: string, log: (line: string) => void): void {
    const lines = text.split('\n').filter((l) => l.length > 0);
    lines.forEach((line, i) => {
      let entry: LogLine;
      try {
        entry = JSON.parse(line) as LogLine;
      } catch {
        log(`${file}: skipping unreadable line ${i + 1}${i === lines.length - 1 ? ' (torn write)' : ''}`);
        return;
      }
      this.apply(entry);
    });
  }

  private apply(entry: LogLine): void {
    if ('type' in entry) {
      this.groupTypes.set(entry.g, entry.type);
      return;
    }
    let group = this.offsets.get(entry.g);
    if (entry.o === null) {
      group?.delete(key(entry.t, entry.p));
      return;
    }
    if (!group) this.offsets.set(entry.g, (group = new Map()));
    group.set(key(entry.t, entry.p), { topic: entry.t, partition: entry.p, offset: entry.o, leaderEpoch: entry.e, metadata: entry.m });
  }

  private compact(file: string): void {
    const lines: string[] = [];
    for (const [g, type] of this.groupTypes) lines.push(JSON.stringify({ g, type }));
    for (const [g, entries] of this.offsets) {
      for (const c of entries.values())
        lines.push(JSON.stringify({ g, t: c.topic, p: c.partition, o: c.offset, e: c.leaderEpoch, m: c.metadata }));
    }
    fs.writeFileSync(`${file}.tmp`, lines.map((l) => l + '\n').join(''));
    fs.renameSync(`${file}.tmp`, file);
  }

  private write(entries: LogLine[]): void {
    for (const e of entries) this.apply(e);
    if (this.fd === null || entries.length === 0) return;
    fs.writeSync(this.fd, entries.map((e) => JSON.stringify(e) + '\n').join(''));
  }

  commit(group: string, commits: readonly { topic: string; partition: number; value: CommittedOffset }[]): void {
    this.write(
      commits.map(({ topic, partition, value }) => ({
        g: group,
        t: topic,
        p: partition,
        o: value.offset,
        e: value.leaderEpoch,
        m: value.metadata,
      })),
    );
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(group)?.get(key(topic, partition));
  }

  /** Every committed offset of a group, in no particular order. */
  forGroup(group: string): { topic: string; partition: number; value: CommittedOffset }[] {
    return [...(this.offsets.get(group)?.values() ?? [])].map(({ topic, partition, ...value }) => ({ topic, partition, value }));
  }

  rememberGroupType(group: string, type: string): void {
    if (this.groupTypes.get(group) !== type) this.write([{ g: group, type }]);
  }

  groupType(group: string): string | undefined {
    return this.groupTypes.get(group);
  }

  /** Groups that have committed offsets (they exist for ListGroups even with no members). */
  groupsWithOffsets(): string[] {
    return [...this.offsets].filter(([, m]) => m.size > 0).map(([g]) => g);
  }

  /** Kafka drops the offsets of a deleted topic, so a recreated topic starts with no committed position. */
  deleteTopic(topic: string): void {
    const drops: LogLine[] = [];
    for (const [g, entries] of this.offsets) {
      for (const c of entries.values()) if (c.topic === topic) drops.push({ g, t: topic, p: c.partition, o: null });
    }
    this.write(drops);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
