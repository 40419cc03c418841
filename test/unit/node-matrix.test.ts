/**
 * `engines` declares exactly the Node release lines CI tests (.ci/run: the primary line runs the
 * whole suite, every other line the unit, contract, HTTP and package suites), and CI prints which
 * Node runs which suites.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ci = readFileSync(`${root}.ci/run`, 'utf8');
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { engines: { node: string } };

/** The majors of an `engines.node` range made of `^X.Y.Z` alternatives. */
function engineMajors(range: string): number[] {
  return range.split('||').map((part) => {
    const m = /^\s*\^(\d+)\.\d+\.\d+\s*$/.exec(part);
    assert.ok(m, `engines.node alternative "${part}" is a ^major.minor.patch range`);
    return Number(m[1]);
  });
}

describe('Node release lines', () => {
  const primary = Number(/^PRIMARY_NODE_LINE=(\d+)$/m.exec(ci)?.[1]);
  const others = (/^OTHER_NODE_LINES=\(([\d ]+)\)$/m.exec(ci)?.[1] ?? '').split(' ').map(Number);

  test('engines.node lists exactly the lines .ci/run tests', () => {
    assert.ok(primary > 0 && others.length > 0, 'PRIMARY_NODE_LINE and OTHER_NODE_LINES in .ci/run');
    assert.deepEqual(
      engineMajors(pkg.engines.node),
      [primary, ...others].sort((a, b) => a - b),
    );
  });

  test('the other lines run the unit, contract (memory + Redis), HTTP and package suites', () => {
    const suites = /^MATRIX_SUITES=\(([^)]*)\)/m.exec(ci)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
    for (const suite of [
      'test/unit',
      'test/contract',
      'test/memory',
      'test/redis/contract.test.ts',
      'test/http',
      'test/package',
    ]) {
      assert.ok(suites.includes(suite), `${suite} in MATRIX_SUITES`);
    }
    assert.match(ci, /PATH="\$bin:\$PATH" node scripts\/run-tests\.mjs "\$\{MATRIX_SUITES\[@\]\}"/);
    assert.match(ci, /echo "== Node \$version/);
    assert.match(ci, /echo "== Node \$primary/);
  });

  test('this process runs on one of the declared lines', () => {
    const major = Number(process.versions.node.split('.')[0]);
    assert.ok(engineMajors(pkg.engines.node).includes(major), `Node ${process.versions.node}`);
  });
});
