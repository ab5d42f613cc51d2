import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dictionaryOf, recode } from '../../src/core/string-dictionary.js';
import { makeColumn, type StringColumn } from '../../src/core/types.js';

const column = (values: string[]): StringColumn => makeColumn('colour', 'VARCHAR', 'string', values, null, null) as StringColumn;

test('string dictionary: distinct values in order of first appearance, each row coded by its value', () => {
  const cases: { values: string[]; keys: string[]; codes: number[] }[] = [
    { values: [], keys: [], codes: [] },
    { values: ['b', 'a', 'b', '', 'a', 'c'], keys: ['b', 'a', '', 'c'], codes: [0, 1, 0, 2, 1, 3] },
    // Equal text from different string objects is one value; case and accents are not folded.
    { values: ['x'.repeat(3), 'xxx', 'XXX', 'é', 'e\u0301'], keys: ['xxx', 'XXX', 'é', 'e\u0301'], codes: [0, 0, 1, 2, 3] },
  ];
  for (const { values, keys, codes } of cases) {
    const dictionary = dictionaryOf(column(values));
    assert.deepEqual(dictionary.keys, keys);
    assert.deepEqual([...dictionary.codes], codes);
  }
});

test('string dictionary: made once per column, so the steps reading one batch share it', () => {
  const colours = column(['a', 'b', 'a']);
  assert.equal(dictionaryOf(colours), dictionaryOf(colours));
});

test('string dictionary: a values array refilled for a later batch (as the reader reuses its arrays) gets its own dictionary', () => {
  const values = ['red', 'red', 'blue'];
  const first = dictionaryOf(column(values));
  values.splice(0, 3, 'green', 'blue', 'green');
  const second = dictionaryOf(column(values));
  assert.deepEqual(first.keys, ['red', 'blue']);
  assert.deepEqual(second.keys, ['green', 'blue']);
  assert.deepEqual([...second.codes], [0, 1, 0]);
});

test('string dictionary: recode gives each value its entry in an index, or the stand-in for values it lacks', () => {
  const dictionary = dictionaryOf(column(['green', 'red', 'blue', 'red']));
  const index = new Map([['red', 0], ['green', 1]]);
  assert.deepEqual([...recode(dictionary, index, -1)], [1, 0, -1]);
  assert.deepEqual([...recode(dictionary, new Map(), 7)], [7, 7, 7]);
});
