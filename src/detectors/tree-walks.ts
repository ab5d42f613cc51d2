// The two loops that detector scoring spends its time in, as WebAssembly: walking every row of a
// block through every isolation tree (path lengths) and through every extra tree (leaf class
// shares). Each thread has its own instance; a model is copied into its memory once, when a call
// brings a model other than the last one, and rows are copied in a block at a time (256 or 1,024
// rows of every feature, that stay in cache while every tree walks them).
// The arithmetic is that of walking the stored trees node by node (IEEE comparisons, one f64
// addition per tree, in tree order, into each row's sum), so the scores are the same to the bit.
import type { CompiledTrees } from './extra-trees.js';
import type { CompiledForest } from './isolation-forest.js';
import { block, brIf, f64Load, f64Store, i32Const, i32Load, i32Store, loop, op, WasmFunction, wasmModule, type Code } from './wasm.js';

/**
 * Rows per block: the block's slice of every feature stays in cache while all trees walk it.
 * The forest walks faster on 256 rows (13 features of them are 26 KB, within a 32 KB first-level cache), the
 * extra trees on 1,024, over which their per-tree pass that lists the unfinished rows is spread
 * (bench:tree-walks; docs/BENCHMARKS.md).
 */
const FOREST_BLOCK_ROWS = 256;
const TREES_BLOCK_ROWS = 1024;
/** Rows walked in lockstep: eight independent walks hide each other's memory latency. */
const LOCKSTEP = 8;
const lanes = Array.from({ length: LOCKSTEP }, (_, k) => `n${k}`);

// Both kernels walk nodes laid out as 16-byte records, so that a step reads one record (one cache
// line) and a lane holds its node's address: no index arithmetic between a node and its fields.
/** Record fields: the split value (a leaf's path length, in the forest), and the feature's offset into the row block. */
const SPLIT = 0;
const FEATURE = 8;
/** Extra trees only: the address of the right child's record (the left one is just before it). */
const RIGHT = 12;
const RECORD_BYTES = 16;

/** The value a lane's node splits on, of the row whose first value is at the address in `row` (+ `offset`). */
const rowValue = (fn: WasmFunction, lane: string, row: string, offset: number): Code => [
  ...fn.get(row), ...fn.get(lane), ...i32Load(FEATURE), ...op.i32Add, ...f64Load(offset),
];

/**
 * Moves a lane to a child of its node: `right` leaves the right child's address on the stack, and
 * the left child's record is the one before it. The lane goes left when value < split (so a NaN
 * goes right), by a select rather than arithmetic on the comparison: fewer instructions a step.
 */
const toChild = (fn: WasmFunction, lane: string, right: Code, value: Code): Code => [
  ...right, ...fn.tee('right'), ...i32Const(RECORD_BYTES), ...op.i32Sub, ...fn.get('right'),
  ...value, ...fn.get(lane), ...f64Load(SPLIT), ...op.f64Lt,
  ...op.select, ...fn.set(lane),
];

/**
 * walkForest: for each tree, for each row, `depth` steps down a complete binary tree stored as a
 * heap of records (children of slot n at 2n + 1 and 2n + 2; a row goes left when value < split, so
 * a NaN goes right, as when the tree was grown), then adds the path length held by the leaf slot
 * it ends on to the row's sum. Tree t's heap starts at `heaps + t * heapBytes`; `rows` is a
 * multiple of LOCKSTEP.
 */
function forestKernel(): { fn: WasmFunction; body: Code } {
  const fn = new WasmFunction(
    'walkForest',
    ['trees', 'depth', 'rows', 'heaps', 'heapBytes', 'data', 'out'],
    ['t', 'r', 'd', 'root', 'bias', 'rowAt', 'outAt', 'right', ...lanes],
  );
  const { get, set } = fn;
  // Slot n's record is at root + 16n; its right child's at root + 16(2n + 2): from the lane's
  // address, 2 * lane + (32 - root).
  const step = (lane: string, k: number): Code =>
    toChild(fn, lane, [...get(lane), ...get(lane), ...op.i32Add, ...get('bias'), ...op.i32Add], rowValue(fn, lane, 'rowAt', k * 8));
  const addLeaf = (lane: string, k: number): Code => [
    ...get('outAt'), ...get('outAt'), ...f64Load(k * 8), ...get(lane), ...f64Load(SPLIT), ...op.f64Add, ...f64Store(k * 8),
  ];
  const body: Code[] = [
    fn.forUp('t', get('trees'), 1,
      [...get('heaps'), ...get('t'), ...get('heapBytes'), ...op.i32Mul, ...op.i32Add, ...set('root')],
      [...i32Const(2 * RECORD_BYTES), ...get('root'), ...op.i32Sub, ...set('bias')],
      fn.forUp('r', get('rows'), LOCKSTEP,
        [...get('data'), ...get('r'), ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...set('rowAt')],
        lanes.flatMap((lane) => [...get('root'), ...set(lane)]),
        fn.forUp('d', get('depth'), 1, lanes.flatMap(step)),
        [...get('out'), ...get('r'), ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...set('outAt')],
        lanes.flatMap(addLeaf),
      ),
    ),
  ];
  return { fn, body: body.flat() };
}

/**
 * walkTrees: for each tree, each row steps from the root (its record's address in `roots`) to the
 * right child's record, or the one before it when value < split, until it stands on a leaf (split
 * NaN, so `value < NaN` is false, and right child itself: a leaf's step stays put); then the
 * leaf's `classes` shares (at `leaves` + its record number * classes * 8) are added to the row's.
 *
 * Rows stop at different depths, and rows in lockstep take as many steps as the deepest of them,
 * so each tree is walked in two passes. First every row takes `firstSteps` steps, eight rows in
 * lockstep, with no test; the nodes reached go to `reached` (one per row). Then the rows not yet
 * on a leaf are listed in `pending` and walked on, eight in lockstep, until a step moves none of
 * the eight. The number of rows the second pass took, over all trees, is left at `pendingCount`,
 * for the caller to tune `firstSteps`. `rows` is a multiple of LOCKSTEP.
 */
function treesKernel(): { fn: WasmFunction; body: Code } {
  const rowAddresses = lanes.map((lane) => `${lane}row`);
  const fn = new WasmFunction(
    'walkTrees',
    ['trees', 'classes', 'rows', 'roots', 'nodes', 'leaves', 'data', 'out', 'firstSteps', 'reached', 'pending', 'pendingCount'],
    ['t', 'r', 'd', 'i', 'j', 'root', 'rowAt', 'before', 'count', 'total', 'node', 'rowOut', 'leafAt', 'cell', 'right', ...lanes, ...rowAddresses],
  );
  const { get, set, tee } = fn;
  const at = (base: string, index: Code): Code => [...get(base), ...index, ...i32Const(2), ...op.i32Shl, ...op.i32Add];
  // Lane k walks row k of the eight at `rowAt` (first pass) or a row of its own (second pass).
  const sharedRow = (lane: string, k: number): Code => rowValue(fn, lane, 'rowAt', k * 8);
  const ownRow = (lane: string, k: number): Code => rowValue(fn, lane, rowAddresses[k]!, 0);
  const step = (value: (lane: string, k: number) => Code) => (lane: string, k: number): Code =>
    toChild(fn, lane, [...get(lane), ...i32Load(RIGHT)], value(lane, k));
  // Children come after their parent, so a lane's address never decreases: the sum of the lanes'
  // addresses stays put exactly when no lane moved.
  const laneSum: Code = [...get(lanes[0]!), ...lanes.slice(1).flatMap((lane) => [...get(lane), ...op.i32Add])];
  const firstPass: Code[] = [
    fn.forUp('r', get('rows'), LOCKSTEP,
      [...get('data'), ...get('r'), ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...set('rowAt')],
      lanes.flatMap((lane) => [...get('root'), ...set(lane)]),
      fn.forUp('d', get('firstSteps'), 1, lanes.flatMap(step(sharedRow))),
      lanes.flatMap((lane, k) => [...at('reached', [...get('r'), ...i32Const(k), ...op.i32Add]), ...get(lane), ...i32Store()]),
    ),
  ];
  // pending[count] = r for every row whose node is not a leaf (the store is undone by the next
  // row when count does not move: no branch).
  const listPending: Code[] = [
    i32Const(0), set('count'),
    fn.forUp('r', get('rows'), 1,
      [...at('pending', get('count')), ...get('r'), ...i32Store()],
      [...at('reached', get('r')), ...i32Load(), ...tee('node'), ...i32Load(RIGHT), ...get('node'), ...op.i32Ne, ...get('count'), ...op.i32Add, ...set('count')],
    ),
    [...get('total'), ...get('count'), ...op.i32Add, ...set('total')],
  ];
  const pendingRow = (k: number): Code => [...at('pending', [...get('i'), ...i32Const(k), ...op.i32Add]), ...i32Load()];
  const secondPass: Code[] = [
    block(
      get('count'), op.i32Eqz, brIf(0),
      // Repeat the last pending row up to a whole lockstep: walking a row twice changes nothing.
      fn.forUp('i', [...get('count'), ...i32Const(LOCKSTEP - 1), ...op.i32Add, ...i32Const(-LOCKSTEP), ...op.i32And, ...get('count'), ...op.i32Sub], 1,
        [...at('pending', [...get('count'), ...get('i'), ...op.i32Add]), ...at('pending', [...get('count'), ...i32Const(1), ...op.i32Sub]), ...i32Load(), ...i32Store()],
      ),
      fn.forUp('i', get('count'), LOCKSTEP,
        lanes.flatMap((lane, k) => [
          ...get('data'), ...pendingRow(k), ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...set(rowAddresses[k]!),
          ...at('reached', pendingRow(k)), ...i32Load(), ...set(lane),
        ]),
        loop(
          lanes.flatMap(step(ownRow)), laneSum, set('before'),
          lanes.flatMap(step(ownRow)), laneSum, get('before'), op.i32Ne, brIf(0),
        ),
        lanes.flatMap((lane, k) => [...at('reached', pendingRow(k)), ...get(lane), ...i32Store()]),
      ),
    ),
  ];
  // out[r * classes + j] += leaf shares[j] for every row and class j.
  const addLeaves: Code[] = [
    fn.forUp('r', get('rows'), 1,
      [...get('r'), ...get('classes'), ...op.i32Mul, ...i32Const(3), ...op.i32Shl, ...get('out'), ...op.i32Add, ...set('rowOut')],
      [...at('reached', get('r')), ...i32Load(), ...get('nodes'), ...op.i32Sub, ...i32Const(4), ...op.i32ShrU, ...get('classes'), ...op.i32Mul, ...i32Const(3), ...op.i32Shl,
        ...get('leaves'), ...op.i32Add, ...set('leafAt')],
      fn.forUp('j', get('classes'), 1, [
        ...get('rowOut'), ...get('j'), ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...tee('cell'),
        ...get('cell'), ...f64Load(),
        ...get('leafAt'), ...get('j'), ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...f64Load(),
        ...op.f64Add, ...f64Store(),
      ]),
    ),
  ];
  const body: Code[] = [
    i32Const(0), set('total'),
    fn.forUp('t', get('trees'), 1,
      [...at('roots', get('t')), ...i32Load(), ...set('root')],
      ...firstPass, ...listPending, ...secondPass, ...addLeaves,
    ),
    [...get('pendingCount'), ...get('total'), ...i32Store()],
  ];
  return { fn, body: body.flat() };
}

// Compiled once per thread, on first use.
let compiledModule: WebAssembly.Module | undefined;
function kernels(): WebAssembly.Module {
  compiledModule ??= wasmModule([forestKernel(), treesKernel()]);
  return compiledModule;
}

/** Byte addresses in a kernel's memory, handed out in order, 8-byte aligned. */
class Layout {
  private next = 0;
  take(bytes: number): number {
    const at = this.next;
    this.next = (at + bytes + 7) & ~7;
    return at;
  }
  get size(): number {
    return this.next;
  }
}

/** One kernel instance: its memory, the model last copied into it, and where things are. */
abstract class Walker<Model> {
  protected readonly instance = new WebAssembly.Instance(kernels(), {});
  protected readonly memory = this.instance.exports.memory as WebAssembly.Memory;
  private loaded: Model | null = null;
  /** Rows a block holds. */
  protected abstract readonly blockRows: number;
  protected blockAt = 0;
  protected outAt = 0;

  protected prepare(model: Model): ArrayBuffer {
    if (this.loaded !== model) {
      this.loaded = null;
      const layout = new Layout();
      const fill = this.layOut(model, layout);
      const missing = Math.ceil(layout.size / 65536) - this.memory.buffer.byteLength / 65536;
      if (missing > 0) this.memory.grow(missing);
      fill(this.memory.buffer);
      this.loaded = model;
    }
    return this.memory.buffer;
  }

  /** Takes the model's regions and the row block's from `layout`; returns what copies the model in. */
  protected abstract layOut(model: Model, layout: Layout): (buffer: ArrayBuffer) => void;

  /**
   * Rows [start, end) of `data` (column-major, `stride` rows a column, `features` columns) block by
   * block: copied in with the sums `out` holds for them (`width` a row), walked by `walkRows` (a
   * row count rounded up to whole locksteps), and the sums copied back.
   */
  protected walkBlocks(
    model: Model, features: number, width: number,
    data: Float64Array, stride: number, start: number, end: number, out: Float64Array,
    walkRows: (rows: number) => void,
  ): void {
    const buffer = this.prepare(model);
    const size = this.blockRows;
    const block = new Float64Array(buffer, this.blockAt, features * size);
    const sums = new Float64Array(buffer, this.outAt, size * width);
    for (let from = start; from < end; from += size) {
      const to = Math.min(end, from + size);
      for (let f = 0; f < features; f++) block.set(data.subarray(f * stride + from, f * stride + to), f * size);
      sums.set(out.subarray((from - start) * width, (to - start) * width));
      // Rows past `to` up to a whole lockstep hold stale values; their sums are not read back.
      walkRows(Math.ceil((to - from) / LOCKSTEP) * LOCKSTEP);
      out.set(sums.subarray(0, (to - from) * width), (from - start) * width);
    }
  }
}

/** A column's offset into a block of `blockRows` rows: feature index * blockRows * 8 bytes. */
const blockOffset = (feature: number, blockRows: number): number => feature * blockRows * 8;

/** Views of a region of records: record i's split at f64 index 2i, its int32 fields at 4i + 2 and 4i + 3. */
function records(buffer: ArrayBuffer, at: number, count: number): { f64: Float64Array; i32: Int32Array } {
  return { f64: new Float64Array(buffer, at, count * 2), i32: new Int32Array(buffer, at, count * 4) };
}

class ForestWalker extends Walker<CompiledForest> {
  protected readonly blockRows = FOREST_BLOCK_ROWS;
  private at = { heaps: 0, heapBytes: 0 };

  protected layOut(forest: CompiledForest, layout: Layout): (buffer: ArrayBuffer) => void {
    const internal = (1 << forest.depth) - 1;
    const slots = 2 * internal + 1;
    const at = { heaps: layout.take(forest.trees * slots * RECORD_BYTES), heapBytes: slots * RECORD_BYTES };
    this.blockAt = layout.take(forest.features * this.blockRows * 8);
    this.outAt = layout.take(this.blockRows * 8);
    this.at = at;
    return (buffer) => {
      const { f64, i32 } = records(buffer, at.heaps, forest.trees * slots);
      for (let t = 0; t < forest.trees; t++) {
        for (let n = 0; n < internal; n++) {
          const record = t * slots + n;
          f64[2 * record] = forest.heapSplit[t * internal + n]!;
          i32[4 * record + 2] = blockOffset(forest.heapFeature[t * internal + n]!, this.blockRows);
        }
        // A leaf slot holds its path length where an internal slot holds its split.
        for (let n = internal; n < slots; n++) f64[2 * (t * slots + n)] = forest.heapPath[t * (internal + 1) + n - internal]!;
      }
    };
  }

  walk(forest: CompiledForest, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
    const walkForest = this.instance.exports.walkForest as (...args: number[]) => void;
    this.walkBlocks(forest, forest.features, 1, data, stride, start, end, out, (rows) => {
      // Read once the model is in: loading it may have moved it.
      const { heaps, heapBytes } = this.at;
      walkForest(forest.trees, forest.depth, rows, heaps, heapBytes, this.blockAt, this.outAt);
    });
  }
}

class TreesWalker extends Walker<CompiledTrees> {
  protected readonly blockRows = TREES_BLOCK_ROWS;
  private at = { roots: 0, nodes: 0, leaves: 0, reached: 0, pending: 0, pendingCount: 0 };
  /**
   * Steps every row takes before the rows not yet on a leaf are listed and walked on. Tuned from
   * block to block so that about a quarter to two fifths of the rows go on: fewer first steps
   * leave more rows to list, more waste steps on rows already on a leaf. It changes the order of
   * the work only, never a row's leaf.
   */
  private firstSteps = 8;

  protected layOut(trees: CompiledTrees, layout: Layout): (buffer: ArrayBuffer) => void {
    const nodes = trees.right.length;
    const at = {
      roots: layout.take(trees.trees * 4),
      nodes: layout.take(nodes * RECORD_BYTES),
      leaves: layout.take(nodes * trees.classes * 8),
      reached: layout.take(this.blockRows * 4),
      // Room for the last pending row repeated up to a whole lockstep.
      pending: layout.take((this.blockRows + LOCKSTEP) * 4),
      pendingCount: layout.take(4),
    };
    this.blockAt = layout.take(trees.features * this.blockRows * 8);
    this.outAt = layout.take(this.blockRows * trees.classes * 8);
    this.at = at;
    return (buffer) => {
      const address = (node: number) => at.nodes + node * RECORD_BYTES;
      const roots = new Int32Array(buffer, at.roots, trees.trees);
      for (let t = 0; t < trees.trees; t++) roots[t] = address(trees.roots[t]!);
      const { f64, i32 } = records(buffer, at.nodes, nodes);
      for (let n = 0; n < nodes; n++) {
        f64[2 * n] = trees.split[n]!;
        i32[4 * n + 2] = blockOffset(trees.feature[n]!, this.blockRows);
        i32[4 * n + 3] = address(trees.right[n]!);
      }
      new Float64Array(buffer, at.leaves, nodes * trees.classes).set(trees.leafValue);
    };
  }

  walk(trees: CompiledTrees, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
    const walkTrees = this.instance.exports.walkTrees as (...args: number[]) => void;
    this.walkBlocks(trees, trees.features, trees.classes, data, stride, start, end, out, (rows) => {
      // Read once the model is in: loading it may have moved it.
      const { roots, nodes, leaves, reached, pending, pendingCount } = this.at;
      walkTrees(trees.trees, trees.classes, rows, roots, nodes, leaves, this.blockAt, this.outAt, this.firstSteps, reached, pending, pendingCount);
      const share = new Int32Array(this.memory.buffer, pendingCount, 1)[0]! / (rows * trees.trees);
      if (share > 0.4) this.firstSteps++;
      else if (share < 0.25 && this.firstSteps > 1) this.firstSteps--;
    });
  }
}

let forestWalker: ForestWalker | undefined;
let treesWalker: TreesWalker | undefined;

/**
 * Adds the path lengths of rows [start, end) over all trees into out[0 .. end - start).
 * `data` is column-major with `stride` rows per column.
 */
export function walkForest(forest: CompiledForest, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
  forestWalker ??= new ForestWalker();
  forestWalker.walk(forest, data, stride, start, end, out);
}

/**
 * Adds the leaf values of rows [start, end) over all trees into out (rows x classes, row-major,
 * row start at 0). `data` is column-major with `stride` rows per column.
 */
export function walkTrees(trees: CompiledTrees, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
  treesWalker ??= new TreesWalker();
  treesWalker.walk(trees, data, stride, start, end, out);
}
