import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, parentOf, sequenceSuffix, validatePath } from '../../src/zk/paths.js';

test('validatePath follows ZooKeeper PathUtils (§6.1)', () => {
  const cases: [string, boolean][] = [
    ['/', true],
    ['/a', true],
    ['/a/b/c', true],
    ['/...', true],
    ['/a.b', true],
    ['/a/..b', true],
    ['/.a', true],
    ['/été', true],
    ['/zookeeper', true],
    ['', false],
    ['a', false],
    ['a/b', false],
    ['/a/', false],
    ['//', false],
    ['//a', false],
    ['/a//b', false],
    ['/.', false],
    ['/..', false],
    ['/a/.', false],
    ['/a/../b', false],
    ['/a/./b', false],
    ['/a\u0000b', false],
    ['/a\u0001', false],
    ['/a\u001f', false],
    ['/a\u007f', false],
    ['/a\u009f', false],
    ['/a\u00a0', true],
    ['/a\ud83d\ude00', false], // emoji: a surrogate pair
    ['/a\ue000', false], // private use
    ['/a\uf8ff', false],
    ['/a\uf900', true],
    ['/a\ufff0', false],
    ['/a\uffff', false],
    ['/a\ufffd', false],
  ];
  for (const [p, ok] of cases) assert.equal(validatePath(p), ok, JSON.stringify(p));
});

test('parentOf and basename', () => {
  assert.equal(parentOf('/a'), '/');
  assert.equal(parentOf('/a/b'), '/a');
  assert.equal(parentOf('/a/b/c'), '/a/b');
  assert.equal(parentOf('/'), '/');
  assert.throws(() => parentOf('abc'));
  assert.equal(basename('/a/b'), 'b');
  assert.equal(basename('/a'), 'a');
  assert.equal(basename('/'), '');
});

test('sequenceSuffix is Java %010d', () => {
  assert.equal(sequenceSuffix(0), '0000000000');
  assert.equal(sequenceSuffix(42), '0000000042');
  assert.equal(sequenceSuffix(2147483647), '2147483647');
  assert.equal(sequenceSuffix(-1), '-000000001');
  assert.equal(sequenceSuffix(-2147483648), '-2147483648');
});
