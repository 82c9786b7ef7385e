/**
 * The topics of the broker and their partition logs. With a data directory, the topic list (names and
 * partition counts) lives in `topics.json`, rewritten atomically (temp file + rename) on every create and
 * delete, and each partition's segments live in `topics/<topic>/<partition>/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog } from './partition-log.ts';
import { SegmentFiles } from './segments.ts';

export interface Topic {
  name: string;
  partitions: PartitionLog[];
}

export interface TopicStoreOptions {
  dataDir: string | null;
  segmentBytes: number;
  log: (line: string) => void;
}

const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC_NAME_LENGTH = 249;

/** Kafka's topic name rule; it also keeps names safe to use as directory names. */
export function topicNameProblem(name: string): string | null {
  if (name === '' || name === '.' || name === '..') return `'${name}' is not a legal topic name`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `topic name is longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  if (!LEGAL_TOPIC_NAME.test(name)) return `topic name '${name}' may only contain ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

export class TopicStore {
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly opts: TopicStoreOptions) {
    if (opts.dataDir) this.load(opts.dataDir);
  }

  private get catalogFile(): string | null {
    return this.opts.dataDir ? path.join(this.opts.dataDir, 'topics.json') : null;
  }

  private partitionDir(topic: string, partition?: number): string {
    const base = path.join(this.opts.dataDir!, 'topics', topic);
    return partition === undefined ? base : path.join(base, String(partition));
  }

  private load(dataDir: string): void {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = this.catalogFile!;
    if (!fs.existsSync(file)) return;
    const catalog = JSON.parse(fs.readFileSync(file, 'utf8')) as { topics: Record<string, { partitions: number }> };
    let messages = 0;
    for (const [name, { partitions }] of Object.entries(catalog.topics)) {
      const topic = this.materialise(name, partitions);
      for (const p of topic.partitions) messages += p.highWatermark - p.logStartOffset;
    }
    this.opts.log(`loaded ${this.topics.size} topics (${messages} messages) from ${dataDir}`);
  }

  private materialise(name: string, partitionCount: number): Topic {
    const partitions = Array.from({ length: partitionCount }, (_, i) => {
      if (!this.opts.dataDir) return new PartitionLog(name, i, null);
      const { files, batches } = SegmentFiles.open(this.partitionDir(name, i), this.opts.segmentBytes, this.opts.log);
      return new PartitionLog(name, i, files, batches);
    });
    const topic = { name, partitions };
    this.topics.set(name, topic);
    return topic;
  }

  private saveCatalog(): void {
    const file = this.catalogFile;
    if (!file) return;
    const topics = Object.fromEntries([...this.topics.values()].map((t) => [t.name, { partitions: t.partitions.length }]));
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ topics }, null, 2));
    fs.renameSync(`${file}.tmp`, file);
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  list(): Topic[] {
    return [...this.topics.values()];
  }

  /** The caller has validated the name and count and checked that the topic does not exist. */
  create(name: string, partitions: number): Topic {
    if (this.opts.dataDir) fs.rmSync(this.partitionDir(name), { recursive: true, force: true });
    const topic = this.materialise(name, partitions);
    this.saveCatalog();
    this.opts.log(`created topic ${name} with ${partitions} partitions`);
    return topic;
  }

  delete(name: string): boolean {
    const topic = this.topics.get(name);
    if (!topic) return false;
    this.topics.delete(name);
    for (const p of topic.partitions) p.close();
    this.saveCatalog();
    if (this.opts.dataDir) fs.rmSync(this.partitionDir(name), { recursive: true, force: true });
    this.opts.log(`deleted topic ${name}`);
    return true;
  }

  close(): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.close();
  }
}
