// The two loops that detector scoring spends its time in, as WebAssembly: walking every row of a
// block through every isolation tree (path lengths) and through every extra tree (leaf class
// shares). Each thread has its own instance; a model is copied into its memory once, when a call
// brings a model other than the last one, and rows are copied in a block at a time (1,024 rows of
// every feature, a few hundred kilobytes that stay in cache while every tree walks them).
// The arithmetic is that of walking the stored trees node by node (IEEE comparisons, one f64
// addition per tree, in tree order, into each row's sum), so the scores are the same to the bit.
import type { CompiledTrees } from './extra-trees.js';
import type { CompiledForest } from './isolation-forest.js';
import { brIf, f64Load, f64Store, i32Const, i32Load, loop, op, WasmFunction, wasmModule, type Code } from './wasm.js';

/** Rows per block: the block's slice of every feature stays in cache while all trees walk it. */
const BLOCK_ROWS = 1024;
/** Rows walked in lockstep: eight independent walks hide each other's memory latency. */
const LOCKSTEP = 8;
const lanes = Array.from({ length: LOCKSTEP }, (_, k) => `n${k}`);

/**
 * walkForest: for each tree, for each row, `depth` steps down a complete binary tree stored as a
 * heap (children of slot n at 2n + 1 and 2n + 2; a row goes left when value < split, so a NaN
 * goes right, as when the tree was grown), then adds the leaf's path length to the row's sum.
 * `feature` holds each slot's byte offset into the row block (feature index * BLOCK_ROWS * 8);
 * `rows` is a multiple of LOCKSTEP.
 */
function forestKernel(): { fn: WasmFunction; body: Code } {
  const fn = new WasmFunction(
    'walkForest',
    ['trees', 'depth', 'rows', 'feature', 'split', 'path', 'data', 'out'],
    ['t', 'r', 'd', 'internal', 'featureAt', 'splitAt', 'pathAt', 'rowAt', 'outAt', ...lanes],
  );
  const { get, set } = fn;
  const scaled = (local: string, shift: number): Code => [...get(local), ...i32Const(shift), ...op.i32Shl];
  const step = (lane: string, k: number): Code => [
    ...scaled(lane, 1), ...i32Const(2), ...op.i32Add,
    ...get('rowAt'), ...get('featureAt'), ...scaled(lane, 2), ...op.i32Add, ...i32Load(), ...op.i32Add, ...f64Load(k * 8),
    ...get('splitAt'), ...scaled(lane, 3), ...op.i32Add, ...f64Load(),
    ...op.f64Lt, ...op.i32Sub, ...set(lane),
  ];
  const addLeaf = (lane: string, k: number): Code => [
    ...get('outAt'), ...get('outAt'), ...f64Load(k * 8),
    ...get('pathAt'), ...scaled(lane, 3), ...op.i32Add, ...f64Load(),
    ...op.f64Add, ...f64Store(k * 8),
  ];
  const body: Code[] = [
    i32Const(1), get('depth'), op.i32Shl, i32Const(1), op.i32Sub, set('internal'),
    fn.forUp('t', get('trees'), 1,
      [...get('feature'), ...get('t'), ...get('internal'), ...op.i32Mul, ...i32Const(2), ...op.i32Shl, ...op.i32Add, ...set('featureAt')],
      [...get('split'), ...get('t'), ...get('internal'), ...op.i32Mul, ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...set('splitAt')],
      // Tree t's leaves start at path + t * (internal + 1) * 8; a walk ends on slot n >= internal.
      // (i32 arithmetic wraps, so the base may dip below zero before n is added back.)
      [...get('path'), ...get('t'), ...get('internal'), ...i32Const(1), ...op.i32Add, ...op.i32Mul, ...get('internal'), ...op.i32Sub,
        ...i32Const(3), ...op.i32Shl, ...op.i32Add, ...set('pathAt')],
      fn.forUp('r', get('rows'), LOCKSTEP,
        [...get('data'), ...scaled('r', 3), ...op.i32Add, ...set('rowAt')],
        lanes.flatMap((lane) => [...i32Const(0), ...set(lane)]),
        fn.forUp('d', get('depth'), 1, lanes.flatMap(step)),
        [...get('out'), ...scaled('r', 3), ...op.i32Add, ...set('outAt')],
        lanes.flatMap(addLeaf),
      ),
    ),
  ];
  return { fn, body: body.flat() };
}

/**
 * walkTrees: for each tree, for each row, steps from the root until it stays put (a leaf's split
 * is NaN and its right child itself, so `value < NaN` never moves it), going to `right[n] - 1`
 * when value < split and to `right[n]` otherwise, then adds the leaf's `classes` shares to the
 * row's. `offset` holds each node's byte offset into the row block; `rows` is a multiple of
 * LOCKSTEP.
 */
function treesKernel(): { fn: WasmFunction; body: Code } {
  const fn = new WasmFunction(
    'walkTrees',
    ['trees', 'classes', 'rows', 'roots', 'right', 'offset', 'split', 'leaf', 'data', 'out'],
    ['t', 'r', 'j', 'root', 'rowAt', 'moved', 'changed', 'rowOut', 'leafAt', 'cell', ...lanes],
  );
  const { get, set, tee } = fn;
  const scaled = (local: string, shift: number): Code => [...get(local), ...i32Const(shift), ...op.i32Shl];
  const step = (lane: string, k: number): Code => [
    ...get('right'), ...scaled(lane, 2), ...op.i32Add, ...i32Load(),
    ...get('rowAt'), ...get('offset'), ...scaled(lane, 2), ...op.i32Add, ...i32Load(), ...op.i32Add, ...f64Load(k * 8),
    ...get('split'), ...scaled(lane, 3), ...op.i32Add, ...f64Load(),
    ...op.f64Lt, ...op.i32Sub, ...tee('moved'),
    ...get(lane), ...op.i32Xor, ...get('changed'), ...op.i32Or, ...set('changed'),
    ...get('moved'), ...set(lane),
  ];
  // out[(r + k) * classes + j] += leaf[n * classes + j] for every class j.
  const addLeaf = (lane: string, k: number): Code => [
    ...get('r'), ...i32Const(k), ...op.i32Add, ...get('classes'), ...op.i32Mul, ...i32Const(3), ...op.i32Shl, ...get('out'), ...op.i32Add, ...set('rowOut'),
    ...get(lane), ...get('classes'), ...op.i32Mul, ...i32Const(3), ...op.i32Shl, ...get('leaf'), ...op.i32Add, ...set('leafAt'),
    ...fn.forUp('j', get('classes'), 1, [
      ...get('rowOut'), ...scaled('j', 3), ...op.i32Add, ...tee('cell'),
      ...get('cell'), ...f64Load(),
      ...get('leafAt'), ...scaled('j', 3), ...op.i32Add, ...f64Load(),
      ...op.f64Add, ...f64Store(),
    ]),
  ];
  const body: Code[] = [
    fn.forUp('t', get('trees'), 1,
      [...get('roots'), ...scaled('t', 2), ...op.i32Add, ...i32Load(), ...set('root')],
      fn.forUp('r', get('rows'), LOCKSTEP,
        [...get('data'), ...scaled('r', 3), ...op.i32Add, ...set('rowAt')],
        lanes.flatMap((lane) => [...get('root'), ...set(lane)]),
        loop(
          i32Const(0), set('changed'),
          lanes.flatMap(step),
          get('changed'), brIf(0),
        ),
        lanes.flatMap(addLeaf),
      ),
    ),
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
  private readonly memory = this.instance.exports.memory as WebAssembly.Memory;
  private loaded: Model | null = null;
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
    const blockRows = new Float64Array(buffer, this.blockAt, features * BLOCK_ROWS);
    const sums = new Float64Array(buffer, this.outAt, BLOCK_ROWS * width);
    for (let from = start; from < end; from += BLOCK_ROWS) {
      const to = Math.min(end, from + BLOCK_ROWS);
      for (let f = 0; f < features; f++) blockRows.set(data.subarray(f * stride + from, f * stride + to), f * BLOCK_ROWS);
      sums.set(out.subarray((from - start) * width, (to - start) * width));
      // Rows past `to` up to a whole lockstep hold stale values; their sums are not read back.
      walkRows(Math.ceil((to - from) / LOCKSTEP) * LOCKSTEP);
      out.set(sums.subarray(0, (to - from) * width), (from - start) * width);
    }
  }
}

/** Column offsets into the row block: feature index * BLOCK_ROWS * 8 bytes. */
function blockOffsets(features: Int32Array, target: Int32Array): void {
  for (let i = 0; i < features.length; i++) target[i] = features[i]! * BLOCK_ROWS * 8;
}

class ForestWalker extends Walker<CompiledForest> {
  private at = { feature: 0, split: 0, path: 0 };

  protected layOut(forest: CompiledForest, layout: Layout): (buffer: ArrayBuffer) => void {
    const at = {
      feature: layout.take(forest.heapFeature.length * 4),
      split: layout.take(forest.heapSplit.length * 8),
      path: layout.take(forest.heapPath.length * 8),
    };
    this.blockAt = layout.take(forest.features * BLOCK_ROWS * 8);
    this.outAt = layout.take(BLOCK_ROWS * 8);
    this.at = at;
    return (buffer) => {
      blockOffsets(forest.heapFeature, new Int32Array(buffer, at.feature, forest.heapFeature.length));
      new Float64Array(buffer, at.split, forest.heapSplit.length).set(forest.heapSplit);
      new Float64Array(buffer, at.path, forest.heapPath.length).set(forest.heapPath);
    };
  }

  walk(forest: CompiledForest, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
    const walkForest = this.instance.exports.walkForest as (...args: number[]) => void;
    this.walkBlocks(forest, forest.features, 1, data, stride, start, end, out, (rows) => {
      // Read once the model is in: loading it may have moved it.
      const { feature, split, path } = this.at;
      walkForest(forest.trees, forest.depth, rows, feature, split, path, this.blockAt, this.outAt);
    });
  }
}

class TreesWalker extends Walker<CompiledTrees> {
  private at = { roots: 0, right: 0, offset: 0, split: 0, leaf: 0 };

  protected layOut(trees: CompiledTrees, layout: Layout): (buffer: ArrayBuffer) => void {
    const nodes = trees.right.length;
    const at = {
      roots: layout.take(trees.trees * 4),
      right: layout.take(nodes * 4),
      offset: layout.take(nodes * 4),
      split: layout.take(nodes * 8),
      leaf: layout.take(nodes * trees.classes * 8),
    };
    this.blockAt = layout.take(trees.features * BLOCK_ROWS * 8);
    this.outAt = layout.take(BLOCK_ROWS * trees.classes * 8);
    this.at = at;
    return (buffer) => {
      new Int32Array(buffer, at.roots, trees.trees).set(trees.roots);
      new Int32Array(buffer, at.right, nodes).set(trees.right);
      blockOffsets(trees.feature, new Int32Array(buffer, at.offset, nodes));
      new Float64Array(buffer, at.split, nodes).set(trees.split);
      new Float64Array(buffer, at.leaf, nodes * trees.classes).set(trees.leafValue);
    };
  }

  walk(trees: CompiledTrees, data: Float64Array, stride: number, start: number, end: number, out: Float64Array): void {
    const walkTrees = this.instance.exports.walkTrees as (...args: number[]) => void;
    this.walkBlocks(trees, trees.features, trees.classes, data, stride, start, end, out, (rows) => {
      // Read once the model is in: loading it may have moved it.
      const { roots, right, offset, split, leaf } = this.at;
      walkTrees(trees.trees, trees.classes, rows, roots, right, offset, split, leaf, this.blockAt, this.outAt);
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
