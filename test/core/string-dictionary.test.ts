import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dictionaryOf, recode } from '../../src/core/string-dictionary.js';

test('string dictionary: distinct values in order of first appearance, each row coded by its value', () => {
  const cases: { values: string[]; keys: string[]; codes: number[] }[] = [
    { values: [], keys: [], codes: [] },
    { values: ['b', 'a', 'b', '', 'a', 'c'], keys: ['b', 'a', '', 'c'], codes: [0, 1, 0, 2, 1, 3] },
    // Equal text from different string objects is one value; case and accents are not folded.
    { values: ['x'.repeat(3), 'xxx', 'XXX', 'é', 'e\u0301'], keys: ['xxx', 'XXX', 'é', 'e\u0301'], codes: [0, 0, 1, 2, 3] },
  ];
  for (const { values, keys, codes } of cases) {
    const dictionary = dictionaryOf(values);
    assert.deepEqual(dictionary.keys, keys);
    assert.deepEqual([...dictionary.codes], codes);
  }
});

test('string dictionary: made once per values array, so the steps reading one batch share it', () => {
  const values = ['a', 'b', 'a'];
  assert.equal(dictionaryOf(values), dictionaryOf(values));
  assert.notEqual(dictionaryOf(values), dictionaryOf([...values]));
});

test('string dictionary: recode gives each value its entry in an index, or the stand-in for values it lacks', () => {
  const dictionary = dictionaryOf(['green', 'red', 'blue', 'red']);
  const index = new Map([['red', 0], ['green', 1]]);
  assert.deepEqual([...recode(dictionary, index, -1)], [1, 0, -1]);
  assert.deepEqual([...recode(dictionary, new Map(), 7)], [7, 7, 7]);
});
