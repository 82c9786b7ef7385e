/**
 * npm run bench:broker — throughput and latency of the dev broker with kafkajs 2.2.4, the client the shop uses.
 *
 * The broker runs as a child process (bin/kafka-dev-broker.ts on a free port), not in this process: kafkajs is
 * CPU-bound at these rates, and sharing one event loop with it would measure the sum of both instead of what
 * a client sees from a separate broker process (which is how `make dev` runs it). On a 2-core machine each
 * side then gets its own core. The broker's CPU time per phase is read from /proc, so its share of the cost
 * stays visible even when the machine is busy with other work and wall-clock rates swing.
 *
 * Workload (issue #2): 100,000 keyed ~110-byte JSON messages with 2 headers, produced in sends of 500
 * (acks -1), consumed by one group member with eachMessage; then 200 single messages, each produced once the
 * previous one was consumed, with kafkajs' default consumer fetch settings (maxWaitTimeInMs 5000, minBytes 1).
 *
 * The same workload first runs once on 20,000 messages, unmeasured: kafkajs is JIT-compiled, and a cold
 * producer is 20-30 % slower over the first 100k messages, which would measure V8 warm-up, not the broker.
 * Each throughput phase then runs three times (fresh topic or group each time); the table shows the median
 * and the range, because other processes on a shared 2-core machine move single runs by tens of percent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

/** Nearest-rank percentile of an ascending array (p in 0..100). */
const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

const MESSAGES = 100_000;
const WARM_UP_MESSAGES = 20_000;
const ROUNDS = 3;
const BATCH = 500;
const LATENCY_SAMPLES = 200;
const PARTITIONS = 6;

async function startBrokerProcess(): Promise<{ child: ChildProcess; address: string }> {
  const cli = fileURLToPath(new URL('../bin/kafka-dev-broker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`broker exited with ${code} before listening:\n${out}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (\S+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
  });
  return { child, address };
}

/** User+system CPU of a process in ms, from /proc (Linux); null elsewhere. */
function cpuMs(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return null;
  }
}

function message(i: number): { key: string; value: string; headers: Record<string, string> } {
  const value = JSON.stringify({
    event_id: `e-${String(i).padStart(8, '0')}`,
    type: 'OrderPlaced',
    order: i,
    total: 1000 + (i % 997),
    at: '2024-01-01T00:00:00Z',
  });
  return { key: `order-${i % 1000}`, value: value.padEnd(110, ' '), headers: { 'event-type': 'OrderPlaced', 'aggregate-type': 'Order' } };
}

interface Phase {
  seconds: number;
  brokerCpuMs: number | null;
}

async function measure(brokerPid: number, run: () => Promise<number>): Promise<Phase> {
  const cpu0 = cpuMs(brokerPid);
  const seconds = await run();
  const cpu1 = cpuMs(brokerPid);
  return { seconds, brokerCpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
}

/** Runs a phase ROUNDS times; rounds are ordered by rate so the middle one is the median. */
async function rounds(brokerPid: number, run: (round: number) => Promise<number>): Promise<Phase[]> {
  const phases: Phase[] = [];
  for (let round = 1; round <= ROUNDS; round++) phases.push(await measure(brokerPid, () => run(round)));
  return phases.sort((a, b) => b.seconds - a.seconds);
}

async function produceAll(kafka: Kafka, topic: string, count = MESSAGES): Promise<number> {
  const producer = kafka.producer();
  await producer.connect();
  const payload = Array.from({ length: count }, (_, i) => message(i));
  const t0 = performance.now();
  for (let i = 0; i < count; i += BATCH) await producer.send({ topic, acks: -1, messages: payload.slice(i, i + BATCH) });
  const seconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return seconds;
}

/** Seconds from the first to the last of `count` messages delivered to eachMessage; also reports the join time. */
async function consumeAll(kafka: Kafka, topic: string, joined: (ms: number) => void, count = MESSAGES): Promise<number> {
  const consumer = kafka.consumer({ groupId: `${topic}-readers` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const started = performance.now();
  let seen = 0;
  let first = 0;
  const seconds = await new Promise<number>((resolve) => {
    void consumer.run({
      eachMessage: async () => {
        if (seen++ === 0) {
          first = performance.now();
          joined(first - started);
        }
        if (seen === count) resolve((performance.now() - first) / 1000);
      },
    });
  });
  await consumer.disconnect();
  return seconds;
}

async function measureLatency(kafka: Kafka, topic: string): Promise<number[]> {
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `${topic}-readers` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  let arrived: ((at: number) => void) | null = null;
  await consumer.run({ eachMessage: async () => arrived?.(performance.now()) });
  await joined;
  // Let the first empty fetch reach the broker and park, as it would in a long-running consumer.
  await new Promise((r) => setTimeout(r, 200));

  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const received = new Promise<number>((resolve) => (arrived = resolve));
    const t0 = performance.now();
    await producer.send({ topic, messages: [message(i)] });
    latencies.push((await received) - t0);
  }
  await consumer.disconnect();
  await producer.disconnect();
  return latencies;
}

function printTable(address: string, rows: string[][]): void {
  const header = ['metric', 'median', `range of ${ROUNDS}`, 'broker CPU'];
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => widths.map((w, c) => (c === 0 ? (r[c] ?? '').padEnd(w) : (r[c] ?? '').padStart(w))).join(' | ');
  console.log(
    `\nDev broker bench: broker in a child process at ${address}, kafkajs 2.2.4, after a ${WARM_UP_MESSAGES / 1000}k-message warm-up`,
  );
  console.log(`${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} (other processes compete for the same cores)`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const { child, address } = await startBrokerProcess();
  const kafka = new Kafka({ clientId: 'bench', brokers: [address], logLevel: logLevel.NOTHING });
  const pid = child.pid!;
  try {
    const admin = kafka.admin();
    await admin.connect();
    const topics = ['bench-warm-up', 'bench-latency', ...Array.from({ length: ROUNDS }, (_, i) => `bench-${i + 1}`)];
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS })) });
    await admin.disconnect();

    await produceAll(kafka, 'bench-warm-up', WARM_UP_MESSAGES);
    await consumeAll(kafka, 'bench-warm-up', () => {}, WARM_UP_MESSAGES);

    const produced = await rounds(pid, (round) => produceAll(kafka, `bench-${round}`));
    const joins: number[] = [];
    const consumed = await rounds(pid, (round) => consumeAll(kafka, `bench-${round}`, (ms) => joins.push(ms)));
    const latencies = [...(await measureLatency(kafka, 'bench-latency'))].sort((a, b) => a - b);

    const rate = (p: Phase): string => `${Math.round(MESSAGES / p.seconds).toLocaleString('en')} msg/s`;
    const spread = (ps: Phase[]): string => `${rate(ps[0]!).split(' ')[0]}–${rate(ps.at(-1)!)}`;
    const cpu = (p: Phase): string => (p.brokerCpuMs === null ? 'n/a' : `${Math.round(p.brokerCpuMs)} ms`);
    const median = (ps: Phase[]): Phase => ps[Math.floor(ps.length / 2)]!;
    printTable(address, [
      [
        'produce 100k (~110 B JSON, key, 2 headers; sends of 500, acks -1)',
        rate(median(produced)),
        spread(produced),
        cpu(median(produced)),
      ],
      ['consume 100k (1 group member, eachMessage; first→last message)', rate(median(consumed)), spread(consumed), cpu(median(consumed))],
      ['  group join until the first message', `${[...joins].sort((a, b) => a - b)[1]!.toFixed(0)} ms`],
      [`latency produce→eachMessage p50 (${LATENCY_SAMPLES} msgs, default fetch settings)`, `${percentile(latencies, 50).toFixed(2)} ms`],
      ['latency produce→eachMessage p99', `${percentile(latencies, 99).toFixed(2)} ms`],
    ]);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

await main();
