// A contract and a labelled sample shared by the bundle and check tests.
import type { Contract } from '../../src/core/contract.js';
import { Random } from '../../src/core/random.js';
import type { Batch } from '../../src/core/types.js';
import { batch, numeric, strings } from './helpers.js';

export const CONTRACT: Contract = {
  name: 'test',
  label: 'kind',
  id: 'id',
  source: 'origin',
  gate: { pass: 0.01, warn: 0.05 },
  columns: [
    { name: 'id', type: 'int' },
    { name: 'origin', type: 'string' },
    { name: 'size', type: 'float' },
    { name: 'weight', type: 'float' },
    { name: 'colour', type: 'string' },
    { name: 'kind', type: 'string' },
  ],
};

/** Two kinds: small light red things (a) and big heavy blue things (b). */
export function sample(n: number, seed: number, rowOffset = 0): Batch {
  const random = new Random(seed);
  const id: number[] = [];
  const origin: string[] = [];
  const size: number[] = [];
  const weight: number[] = [];
  const colour: string[] = [];
  const kind: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = random.nextFloat() < 0.5;
    id.push(rowOffset + i);
    origin.push('lab');
    size.push((b ? 10 : 0) + random.nextFloat() * 2);
    weight.push((b ? 50 : 0) + random.nextFloat() * 5);
    colour.push(random.nextFloat() < 0.9 ? (b ? 'blue' : 'red') : 'green');
    kind.push(b ? 'b' : 'a');
  }
  return batch(
    [numeric('id', id, 'int'), strings('origin', origin), numeric('size', size), numeric('weight', weight), strings('colour', colour), strings('kind', kind)],
    rowOffset,
  );
}

