/**
 * The layout's dependency rule (README, "Layout"), checked over every import under src/:
 *
 *   platform     imports only platform: it never knows a context.
 *   contexts/X   imports platform, the kernel, its own folder, and another context only through that context's
 *                index.ts (its public API).
 *   kernel       imports platform, the kernel, and each context's index.ts or events.ts; from the composition
 *                layer only types (the route deps name the application and the query table).
 *   composition  imports anything but the process roots.
 *   processes    imports anything.
 *   devstack     (the embedded stack for `make dev` and the tests) is imported by nothing else under src/.
 *
 * Tests beside the code (`*.test.ts`) are not held to it: they use the helpers in test/support, the in-memory
 * composition root (src/processes/memory.ts) and, to test interplay, other contexts' internals.
 *
 * Imports are read with a regex over the source (static `import`/`export … from` and `import('…')`); a file
 * that moves or a new folder under src/ is checked the same way.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesUnder(path.posix.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.posix.join(dir, e.name)] : [],
  );
}

/** Every relative import of a file, resolved to a path from the repository root. */
export function importsOf(file: string, source: string): Import[] {
  const found: Import[] = [];
  const statement =
    /^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]|\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)|^\s*import\s+['"](\.[^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) {
    const spec = m[3] ?? m[4] ?? m[5]!;
    found.push({ from: file, to: path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)), typeOnly: Boolean(m[2]) });
  }
  return found;
}

const contextOf = (p: string): string | undefined => /^src\/contexts\/([^/]+)\//.exec(p)?.[1];
const under = (p: string, dir: string): boolean => p.startsWith(`${dir}/`);

/** Why an import breaks the rule, or undefined if it keeps it. */
export function violation({ from, to, typeOnly }: Import): string | undefined {
  if (from.endsWith('.test.ts')) return undefined;
  if (under(to, 'src/devstack') && !under(from, 'src/devstack')) return 'only the dev stack imports src/devstack';
  if (under(from, 'src/platform')) return under(to, 'src/platform') ? undefined : 'platform imports only platform';
  if (under(from, 'src/contexts')) {
    const own = contextOf(from);
    const other = contextOf(to);
    if (under(to, 'src/platform') || under(to, 'src/kernel')) return undefined;
    if (other === undefined) return 'a context imports only platform, the kernel and contexts';
    if (other === own) return undefined;
    return to === `src/contexts/${other}/index.ts`
      ? undefined
      : `another context only through its index.ts (src/contexts/${other}/index.ts)`;
  }
  if (under(from, 'src/kernel')) {
    if (under(to, 'src/platform') || under(to, 'src/kernel')) return undefined;
    if (/^src\/contexts\/[^/]+\/(index|events)\.ts$/.test(to)) return undefined;
    if (under(to, 'src/composition') && typeOnly) return undefined;
    return "the kernel imports contexts' index.ts or events.ts, and types only from the composition layer";
  }
  if (under(from, 'src/composition')) return under(to, 'src/processes') ? 'the composition layer never imports a process root' : undefined;
  return undefined;
}

test('every import under src/ keeps the layout rule', () => {
  const broken = sourcesUnder('src')
    .flatMap((file) => importsOf(file, readFileSync(path.join(ROOT, file), 'utf8')))
    .flatMap((i) => {
      const why = violation(i);
      return why ? [`${i.from} imports ${i.to}: ${why}`] : [];
    });
  assert.deepEqual(broken, []);
});

test('the rule catches what it is for', () => {
  const bad: Array<[string, string, boolean]> = [
    ['src/platform/http/auth.ts', 'src/contexts/users/index.ts', false],
    ['src/platform/shared/log.ts', 'src/kernel/contracts.ts', true],
    ['src/contexts/carts/decider.ts', 'src/contexts/catalog/product-decider.ts', false],
    ['src/contexts/orders/handlers.ts', 'src/composition/application.ts', true],
    ['src/kernel/streams.ts', 'src/contexts/orders/handlers.ts', false],
    ['src/kernel/deps.ts', 'src/composition/application.ts', false],
    ['src/composition/http/app.ts', 'src/processes/api.ts', false],
    ['src/processes/api.ts', 'src/devstack/stack.ts', false],
    ['src/contexts/orders/handlers.ts', 'test/support/decider.ts', false],
  ];
  for (const [from, to, typeOnly] of bad) assert.ok(violation({ from, to, typeOnly }), `${from} → ${to} should break the rule`);
  assert.equal(violation({ from: 'src/contexts/carts/decider.ts', to: 'src/contexts/catalog/index.ts', typeOnly: false }), undefined);
  assert.equal(violation({ from: 'src/kernel/deps.ts', to: 'src/composition/application.ts', typeOnly: true }), undefined);
  // The reader sees through a multi-line import and tells `import type` from a value import.
  const found = importsOf(
    'src/contexts/a/x.ts',
    "import type {\n  A,\n  B,\n} from '../b/y.ts';\nimport { c } from './c.ts';\nexport * from '../../kernel/k.ts';\nconst d = await import('../d/index.ts');",
  );
  assert.deepEqual(
    found.map((i) => [i.to, i.typeOnly]),
    [
      ['src/contexts/b/y.ts', true],
      ['src/contexts/a/c.ts', false],
      ['src/kernel/k.ts', false],
      ['src/contexts/d/index.ts', false],
    ],
  );
});
