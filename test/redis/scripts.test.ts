/**
 * Static checks of the Lua scripts: every key a script touches comes from `KEYS` (Cluster routes a
 * script by its declared keys, and a key it did not declare may live on another node), the header
 * documents every `KEYS[i]` and `ARGV[i]` the body uses, time comes from `ARGV` (never `TIME`), and
 * `lua/index.ts` loads every file with the number of keys its header declares.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SCRIPTS, VARIADIC_KEYS } from '../../src/stores/redis/lua/index.js';

const DIR = new URL('../../src/stores/redis/lua/', import.meta.url);
const files = readdirSync(DIR)
  .filter((name) => name.endsWith('.lua'))
  .sort();

function read(name: string): { header: string; body: string } {
  const source = readFileSync(new URL(name, DIR), 'utf8');
  const m = /^--\[\[([\s\S]*?)\]\]\n([\s\S]*)$/.exec(source);
  assert.ok(m, `${name}: starts with a --[[ … ]] header`);
  return { header: m[1]!, body: m[2]! };
}

/** Strips `-- …` line comments and string contents, so patterns see only code. */
function code(body: string): string {
  return body
    .split('\n')
    .map((line) => line.replace(/--.*$/, ''))
    .join('\n');
}

/** Local names bound to `KEYS[i]`, e.g. `local a, b = KEYS[1], KEYS[2]` or `local idx = KEYS[1]`. */
function keyNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const m of body.matchAll(/local\s+([\w\s,]+?)\s*=\s*((?:KEYS\[\d+\]\s*,?\s*)+)\n/g)) {
    const vars = m[1]!.split(',').map((v) => v.trim());
    const values = m[2]!.split(',').map((v) => v.trim());
    vars.forEach((v, i) => {
      if (/^KEYS\[\d+\]$/.test(values[i] ?? '')) names.add(v);
    });
  }
  return names;
}

describe('Lua scripts', () => {
  it('every file in lua/ is loaded by lua/index.ts, and nothing else', () => {
    assert.deepEqual(
      files,
      Object.keys(SCRIPTS)
        .map((name) => `${name}.lua`)
        .sort(),
    );
    for (const script of Object.values(SCRIPTS)) {
      assert.match(script.sha1, /^[0-9a-f]{40}$/);
      assert.ok(script.source.length > 0);
    }
  });

  it('resolves every #include, and only those of the scripts that need the helper', () => {
    for (const name of files) {
      const script = SCRIPTS[name.replace(/\.lua$/, '') as keyof typeof SCRIPTS];
      assert.doesNotMatch(script.source, /^-- #include /m, `${name}: an include was left unresolved`);
      const uses = /recordEnd\(/.test(readFileSync(new URL(name, DIR), 'utf8'));
      assert.equal(/local function recordEnd\(v\)/.test(script.source), uses, `${name}: recordEnd`);
    }
  });

  for (const name of files) {
    describe(name, () => {
      const { header, body } = read(name);
      const src = code(body);

      it('touches only keys it declares in KEYS', () => {
        const declared = keyNames(src);
        const calls = [...src.matchAll(/redis\.(?:p?call)\(\s*'([A-Z]+)'\s*,\s*([^,)]+)/g)];
        assert.ok(calls.length > 0, 'makes at least one call');
        for (const [, command, first] of calls) {
          const key = first!.trim();
          // `unpack(KEYS, a, b)`: a run of declared keys, as they are (revocation_read_batch's MGET).
          const ok = /^KEYS\[(\d+|i)\]$/.test(key) || /^unpack\(KEYS$/.test(key) || declared.has(key);
          assert.ok(ok, `${command} ${key}: the key must be KEYS[…] or a local bound to KEYS[…]`);
        }
        // A key may be built from nothing else: no concatenation into a call's key position.
        assert.doesNotMatch(
          src,
          /redis\.p?call\(\s*'[A-Z]+'\s*,\s*[^,)]*\.\./,
          'no key built by concatenation',
        );
      });

      it('never asks the server for the time or walks the keyspace', () => {
        assert.doesNotMatch(src, /'(TIME|KEYS|SCAN|FLUSHDB|FLUSHALL)'/);
      });

      it('documents every KEYS[i] and ARGV[i] it uses, and its output', () => {
        assert.match(header, /Input:/);
        assert.match(header, /Output:/);
        for (const m of src.matchAll(/(KEYS|ARGV)\[(\d+)\]/g)) {
          const [, kind, n] = m;
          const documented = new RegExp(`${kind}\\[(${n}|\\d+\\.\\.n(-1)?|${n}\\.\\.n)\\]`).test(header);
          assert.ok(documented, `${kind}[${n}] is used but not in the header`);
        }
      });

      it('is loaded with the number of keys its header declares', () => {
        const script = SCRIPTS[name.replace(/\.lua$/, '') as keyof typeof SCRIPTS];
        const fixed = [...header.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
        const variadic = /KEYS\[\d+\.\.n\]/.test(header);
        assert.equal(script.numberOfKeys, variadic ? VARIADIC_KEYS : Math.max(...fixed));
      });
    });
  }
});
