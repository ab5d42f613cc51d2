// A string column's rows as codes into its distinct values. Several steps look each string of a
// batch up (the feature encoders, drift, triggers, label codes), and each string is a fresh
// object from the reader whose hash is not known yet: with the dictionary, a string is hashed
// once a row, and each step then looks up the distinct values only, and reads codes by row.
import type { StringColumn } from './types.js';

export interface StringDictionary {
  /** The distinct values, in order of first appearance. */
  readonly keys: readonly string[];
  /** Per row, the index of its value in `keys` (a missing row holds '' and is coded as such). */
  readonly codes: Int32Array;
}

/**
 * One dictionary per column object: each batch has columns of its own, while a reader may refill
 * the same values array for a later batch, so the array is not the key.
 */
const dictionaries = new WeakMap<StringColumn, StringDictionary>();

export function dictionaryOf(column: StringColumn): StringDictionary {
  let dictionary = dictionaries.get(column);
  if (dictionary === undefined) {
    const values = column.values;
    const index = new Map<string, number>();
    const keys: string[] = [];
    const codes = new Int32Array(values.length);
    for (let r = 0; r < values.length; r++) {
      const value = values[r]!;
      let code = index.get(value);
      if (code === undefined) {
        code = keys.length;
        index.set(value, code);
        keys.push(value);
      }
      codes[r] = code;
    }
    dictionary = { keys, codes };
    dictionaries.set(column, dictionary);
  }
  return dictionary;
}

/**
 * Each distinct value's entry in `index` (`missing` for a value it lacks), as an array by code:
 * translates a dictionary into a step's own numbering with one lookup a distinct value.
 */
export function recode(dictionary: StringDictionary, index: ReadonlyMap<string, number>, missing: number): Int32Array {
  const out = new Int32Array(dictionary.keys.length);
  for (let k = 0; k < out.length; k++) out[k] = index.get(dictionary.keys[k]!) ?? missing;
  return out;
}
