/**
 * TestingSource: an input from an in-memory iterable, with markers that end, crash or pause
 * the run at chosen points.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { AbortExecution } from "../errors.ts";
import {
  EOF,
  type FixedPartitionedSource,
  type PartitionContext,
  type StatefulSourcePartition,
} from "../io/inputs.ts";

/** Marker: the input ends here for this run; a resumed run continues after it. */
export class TestingEof {
  /** Identifies the marker kind. */
  readonly marker = "EOF" as const;
}

/** Marker: the run stops abruptly here, like a crash; fires only once per marker object. */
export class TestingAbort {
  /** Identifies the marker kind. */
  readonly marker = "ABORT" as const;
  /** Set once the marker has stopped a run; a fired marker is skipped. */
  fired = false;
}

/** Marker: the input emits nothing for `ms` milliseconds of the run's clock. */
export class TestingPause {
  /** Identifies the marker kind. */
  readonly marker = "PAUSE" as const;
  /**
   * A pause of `ms` milliseconds; made by {@linkcode TestingSource.PAUSE}.
   *
   * @param ms How long to pause.
   */
  constructor(readonly ms: number) {}
}

/** Any TestingSource marker. */
export type TestingMarker = TestingEof | TestingAbort | TestingPause;

/** Options of {@linkcode TestingSource}. */
export interface TestingSourceOptions {
  /** Items per batch (default 1). A marker ends a batch early. */
  readonly batchSize?: number;
}

function isMarker(x: unknown): x is TestingMarker {
  return x instanceof TestingEof || x instanceof TestingAbort || x instanceof TestingPause;
}

/**
 * What a {@linkcode TestingSource} may hold: anything. Spelled as `[string, unknown]` or any
 * value, so that an array literal of `[key, value]` pairs infers a tuple type (`[string, number]`
 * rather than `(string | number)[]`), while `1` or `"a"` still infer `number` or `string` (a
 * constraint naming a primitive type would infer literal types instead). Only the outer pair is
 * inferred as a tuple: a pair inside the value (`["k", ["x", 1]]`) infers `(string | number)[]`,
 * so give such items a type (`new TestingSource<[string, [string, number]]>(…)`). Short number
 * arrays infer tuples too (`[[1, 2]]` → `[number, number]`), which still fit `number[]`.
 */
export type TestingItem = readonly [string, unknown] | NonNullable<unknown> | null | undefined;

/**
 * An input reading an in-memory iterable, one partition named `"iterable"`; its snapshot is
 * the index of the next item, so a resumed run continues where the last epoch ended.
 *
 * Markers in the iterable (Bytewax's semantics):
 * - `TestingSource.EOF()`: ends the input for this run after the items before it; a run
 *   resumed from a snapshot continues after the marker.
 * - `TestingSource.ABORT()`: after the items before it are emitted, stops the run abruptly
 *   (no EOF processing; `run` resolves with status `"aborted"`). Each marker object fires
 *   once: a later run over the same items skips it.
 * - `TestingSource.PAUSE(ms)`: emits nothing until `ms` of the run's clock passed.
 *
 * The iterable is iterated afresh by every run; avoid one-shot generators across runs.
 *
 * @example An abort, then a resume from the items' start
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("abort_demo");
 * flow.input("inp", new TestingSource([1, 2, TestingSource.ABORT(), 3]))
 *   .output("out", new TestingSink(out));
 * assertEquals((await runMain(flow)).status, "aborted");
 * assertEquals(out, [1, 2]);
 * await runMain(flow); // no recovery: starts over, the fired ABORT is skipped
 * assertEquals(out, [1, 2, 1, 2, 3]);
 * ```
 */
export class TestingSource<T extends TestingItem> implements FixedPartitionedSource<T, number> {
  /** A marker that ends the input for this run. */
  static EOF(): TestingEof {
    return new TestingEof();
  }

  /** A marker that aborts the run once. */
  static ABORT(): TestingAbort {
    return new TestingAbort();
  }

  /** A marker that pauses the input for `ms` milliseconds of the run's clock. */
  static PAUSE(ms: number): TestingPause {
    if (!(ms >= 0)) throw new RangeError(`PAUSE needs a duration >= 0 ms, got ${ms}`);
    return new TestingPause(ms);
  }

  readonly #items: Iterable<T | TestingMarker>;
  readonly #batchSize: number;

  /**
   * Reads `items` in order; markers among them end, abort or pause the run.
   *
   * The parameter's second `Iterable` only guides inference: it makes an array literal of
   * `[key, value]` pairs infer tuples, also inside a call such as `flow.input(...)`.
   *
   * @param items The items, possibly with markers.
   * @param options Batch size.
   */
  constructor(
    items: Iterable<T | TestingMarker> & Iterable<TestingItem | TestingMarker>,
    options: TestingSourceOptions = {},
  ) {
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    this.#items = items;
    this.#batchSize = batchSize;
  }

  /** One partition, `"iterable"`. */
  listParts(): string[] {
    return ["iterable"];
  }

  /** Builds the reader, skipping `resumeState` items. */
  buildPart(
    _stepId: string,
    _forPart: string,
    resumeState: number | undefined,
    ctx: PartitionContext,
  ): StatefulSourcePartition<T, number> {
    return new TestingPartition<T>(this.#items, this.#batchSize, resumeState ?? 0, ctx.clock);
  }
}

class TestingPartition<T> implements StatefulSourcePartition<T, number> {
  readonly #it: Iterator<T | TestingMarker>;
  #peeked: IteratorResult<T | TestingMarker> | undefined = undefined;
  #index = 0;
  #pauseUntil: number | undefined = undefined;

  constructor(
    items: Iterable<T | TestingMarker>,
    private readonly batchSize: number,
    start: number,
    private readonly clock: Clock,
  ) {
    this.#it = items[Symbol.iterator]();
    while (this.#index < start && !this.#peek().done) this.#advance();
  }

  #peek(): IteratorResult<T | TestingMarker> {
    return this.#peeked ??= this.#it.next();
  }

  #advance(): void {
    this.#peeked = undefined;
    this.#index++;
  }

  nextBatch(): T[] | EOF {
    if (this.#pauseUntil !== undefined) {
      if (this.clock.now() < this.#pauseUntil) return [];
      this.#pauseUntil = undefined;
    }
    const batch: T[] = [];
    while (batch.length < this.batchSize) {
      const r = this.#peek();
      if (r.done) return batch.length > 0 ? batch : EOF;
      const item = r.value;
      if (!isMarker(item)) {
        batch.push(item);
        this.#advance();
        continue;
      }
      if (item instanceof TestingAbort && item.fired) {
        this.#advance();
        continue;
      }
      // A marker ends the batch; it takes effect on the next call.
      if (batch.length > 0) return batch;
      this.#advance();
      if (item instanceof TestingEof) return EOF;
      if (item instanceof TestingAbort) {
        item.fired = true;
        throw new AbortExecution("TestingSource reached an ABORT marker");
      }
      this.#pauseUntil = this.clock.now() + item.ms;
      return [];
    }
    return batch;
  }

  nextAwake(): number | undefined {
    return this.#pauseUntil;
  }

  snapshot(): number {
    return this.#index;
  }
}
