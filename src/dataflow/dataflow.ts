/**
 * The definition API: {@linkcode Dataflow} and {@linkcode Stream}. Defining a flow only
 * records steps; nothing runs until `run` or `runMain`.
 *
 * @module
 */
import type { OperatorFunction } from "rxjs";
import { checkStepId, describeType } from "./step_id.ts";
import type { AnyOperator } from "./op.ts";
import { StepRecorder } from "./recorder.ts";
import type { StepRecord } from "./graph.ts";
import { isSource, type Source } from "../io/inputs.ts";
import { type DynamicSink, type FixedPartitionedSink, isSink } from "../io/outputs.ts";

/**
 * A dataflow: a graph of named steps from inputs to outputs.
 *
 * Like a Bytewax `Dataflow`: build it with {@linkcode Dataflow.input}, `Stream.pipe`,
 * `Stream.branch`, {@linkcode Dataflow.merge} and `Stream.output`, then run it with `run` or
 * `runMain`. The same definition can be run many times; every run builds fresh operators.
 *
 * @example Doubling numbers
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { map } from "rxjs";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("double");
 * flow.input("inp", new TestingSource([1, 2, 3]))
 *   .pipe(map((x) => x * 2))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [2, 4, 6]);
 * ```
 */
export class Dataflow {
  /** The flow id: the first component of every step id. */
  readonly flowId: string;
  readonly #rec = new StepRecorder();

  /**
   * Starts an empty dataflow; add inputs with {@linkcode Dataflow.input}.
   *
   * @param flowId A non-empty name without periods.
   * @throws {TypeError} If `flowId` is not a string.
   * @throws {RangeError} If `flowId` is empty or contains a period.
   */
  constructor(flowId: string) {
    checkStepId(flowId, "Flow id");
    this.flowId = flowId;
  }

  /** The recorded steps, in definition (topological) order. */
  get steps(): readonly StepRecord[] {
    return this.#rec.steps;
  }

  /**
   * Adds an input step reading from `source`.
   *
   * @param stepId The step's name (unique in the flow, no periods).
   * @param source A `FixedPartitionedSource` or `DynamicSource`.
   * @returns The stream of the source's items.
   */
  input<T>(stepId: string, source: Source<T>): Stream<T> {
    const id = this.#rec.register(this.flowId, stepId);
    if (!isSource(source)) {
      throw new TypeError(
        `Input "${id}" needs a FixedPartitionedSource or DynamicSource, got ${
          describeType(source)
        }`,
      );
    }
    const down = `${id}.down`;
    this.#rec.steps.push({
      kind: "input",
      id,
      name: stepId,
      opType: "input",
      parent: this.flowId,
      ups: [],
      downs: [down],
      source: source as Source<unknown>,
    });
    return new Stream<T>(this, down);
  }

  /**
   * Unites several streams into one. Items keep their order within each upstream; how
   * upstreams interleave depends on when their items arrive. The merged stream ends when
   * every upstream has ended.
   *
   * @param stepId The step's name.
   * @param streams One or more streams of this flow.
   */
  merge<T extends readonly Stream<unknown>[]>(
    stepId: string,
    ...streams: T
  ): Stream<T[number] extends Stream<infer U> ? U : never> {
    return new Stream(this, this.#addMerge(this.flowId, stepId, streams));
  }

  /**
   * Defines a composite step over several streams: registers `stepId`, and hands `build` a
   * {@linkcode Scope} whose `pipe` and `merge` record substeps `flow.stepId.sub`. This is
   * how multi-input operators such as `join` are written; single-input ones use `step()`.
   *
   * @param stepId The composite's name.
   * @param opType The operator's name, for graphs.
   * @param build Defines the substeps; its result is returned.
   *
   * @example Tagging and merging two streams in one named step
   * ```ts
   * import { Dataflow } from "@weir/weir";
   * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
   * import { map } from "rxjs";
   * import { assertEquals } from "@std/assert";
   *
   * const flow = new Dataflow("comp");
   * const a = flow.input("a", new TestingSource([1]));
   * const b = flow.input("b", new TestingSource([2]));
   * const tagged = flow.composite("tag_all", "tagAll", (scope) =>
   *   scope.merge("merge", scope.pipe(a, map((x) => `a${x}`)), scope.pipe(b, map((x) => `b${x}`))));
   * const out: string[] = [];
   * tagged.output("out", new TestingSink(out));
   * await runMain(flow);
   * assertEquals(out, ["a1", "b2"]);
   * assertEquals(flow.steps.map((s) => s.id).slice(2, 6), [
   *   "comp.tag_all", "comp.tag_all.pipe_1", "comp.tag_all.pipe_2", "comp.tag_all.merge",
   * ]);
   * ```
   */
  composite<R>(stepId: string, opType: string, build: (scope: Scope) => R): R {
    const id = this.#rec.register(this.flowId, stepId);
    const record = {
      kind: "scope" as const,
      id,
      name: stepId,
      opType,
      parent: this.flowId,
      ups: [] as string[],
      downs: [] as string[],
    };
    this.#rec.steps.push(record);
    const scope: Scope = {
      id,
      pipe: (stream: Stream<unknown>, ...ops: AnyOperator[]) => {
        this.checkOwnStream(stream, `The stream piped in composite "${id}"`);
        if (!record.ups.includes(stream.id) && !stream.id.startsWith(`${id}.`)) {
          record.ups.push(stream.id);
        }
        return new Stream(this, this.#rec.expand(id, stream.id, ops, `pipe of "${id}"`));
      },
      merge: (name: string, ...streams: Stream<unknown>[]) =>
        new Stream(this, this.#addMerge(id, name, streams)),
    } as Scope;
    const result = build(scope);
    for (const value of Object.values(result ?? {}) as unknown[]) {
      if (value instanceof Stream) record.downs.push(value.id);
    }
    if (result instanceof Stream) record.downs.push(result.id);
    return result;
  }

  #addMerge(scope: string, stepId: string, streams: readonly Stream<unknown>[]): string {
    const id = this.#rec.register(scope, stepId);
    if (streams.length === 0) {
      throw new TypeError(`Merge "${id}" needs at least one stream`);
    }
    streams.forEach((s, i) => this.checkOwnStream(s, `Argument ${i + 2} of merge "${id}"`));
    const down = `${id}.down`;
    this.#rec.steps.push({
      kind: "merge",
      id,
      name: stepId,
      opType: "merge",
      parent: scope,
      ups: streams.map((s) => s.id),
      downs: [down],
    });
    return down;
  }

  /** @internal Throws unless `stream` is a Stream of this flow. */
  checkOwnStream(stream: unknown, what: string): asserts stream is Stream<unknown> {
    if (!(stream instanceof Stream)) {
      throw new TypeError(
        `${what} must be a Stream, got ${describeType(stream)}; did you forget to ` +
          `destructure the result of an operator that returns several streams, like branch?`,
      );
    }
    if (stream.flow !== this) {
      throw new TypeError(
        `${what} is stream "${stream.id}" of dataflow "${stream.flow.flowId}", not of "${this.flowId}"`,
      );
    }
  }

  /** @internal Records an output step. */
  addOutput(up: Stream<unknown>, stepId: string, sink: unknown): void {
    const id = this.#rec.register(this.flowId, stepId);
    if (!isSink(sink)) {
      throw new TypeError(
        `Output "${id}" needs a FixedPartitionedSink or DynamicSink, got ${describeType(sink)}`,
      );
    }
    this.#rec.steps.push({
      kind: "output",
      id,
      name: stepId,
      opType: "output",
      parent: this.flowId,
      ups: [up.id],
      downs: [],
      sink,
    });
  }

  /** @internal Records a branch step. */
  addBranch(
    up: Stream<unknown>,
    stepId: string,
    predicate: (item: unknown) => unknown,
  ): { trues: string; falses: string } {
    const id = this.#rec.register(this.flowId, stepId);
    if (typeof predicate !== "function") {
      throw new TypeError(
        `Branch "${id}" needs a predicate function, got ${describeType(predicate)}`,
      );
    }
    const trues = `${id}.trues`;
    const falses = `${id}.falses`;
    this.#rec.steps.push({
      kind: "branch",
      id,
      name: stepId,
      opType: "branch",
      parent: this.flowId,
      ups: [up.id],
      downs: [trues, falses],
      predicate,
    });
    return { trues, falses };
  }

  /** @internal Records the steps of a `pipe` call; returns the resulting stream id. */
  addPipe(upStreamId: string, ops: readonly AnyOperator[]): string {
    return this.#rec.expand(this.flowId, upStreamId, ops, "pipe");
  }
}

/** What {@linkcode Dataflow.composite} hands its `build` function. */
export interface Scope {
  /** The composite's fully qualified id. */
  readonly id: string;
  /** Like `Stream.pipe`, recording the steps as substeps of the composite. */
  pipe<T>(stream: Stream<T>): Stream<T>;
  /** Applies operators to `stream` inside the composite. */
  pipe<T, A>(stream: Stream<T>, op1: OperatorFunction<T, A>): Stream<A>;
  /** Applies operators to `stream` inside the composite. */
  pipe<T, A, B>(
    stream: Stream<T>,
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
  ): Stream<B>;
  /** Applies operators to `stream` inside the composite. */
  pipe<T, A, B, C>(
    stream: Stream<T>,
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
  ): Stream<C>;
  /** Like `Dataflow.merge`, as a substep of the composite. */
  merge<T extends readonly Stream<unknown>[]>(
    stepId: string,
    ...streams: T
  ): Stream<T[number] extends Stream<infer U> ? U : never>;
}

/** The two outputs of {@linkcode Stream.branch}. */
export interface BranchOut<T, F> {
  /** Items for which the predicate returned `true`. */
  readonly trues: Stream<T>;
  /** Items for which the predicate returned `false`. */
  readonly falses: Stream<F>;
}

/**
 * A stream of items flowing between steps of a {@linkcode Dataflow}. A stream may feed several
 * steps; each receives every item.
 *
 * @typeParam T The items.
 */
export class Stream<T> {
  /** @internal Use `Dataflow.input`, `Stream.pipe` and friends to make streams. */
  constructor(
    /** The dataflow this stream belongs to. */
    readonly flow: Dataflow,
    /** The stream id, e.g. `"flow.step.down"`. */
    readonly id: string,
  ) {}

  /**
   * Applies operators in order and returns the resulting stream. Each operator is either a
   * synchronous RxJS operator (`map`, `filter`, `tap`, `scan`…; consecutive ones form one
   * step named `pipe_N`) or a weir operator with its own step id (`keyOn("key", f)`,
   * `mapAsync("fetch", f)`, `statefulMap("avg", f)`…).
   *
   * RxJS operators that emit asynchronously or by time (`delay`, `bufferTime`, `mergeMap`
   * over promises) are not valid steps: the run fails if a step emits between activations.
   * Use `mapAsync` for asynchronous work.
   *
   * @example
   * ```ts
   * import { Dataflow, keyOn } from "@weir/weir";
   * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
   * import { filter, map } from "rxjs";
   * import { assertEquals } from "@std/assert";
   *
   * const out: [string, number][] = [];
   * const flow = new Dataflow("pipe_demo");
   * flow.input("inp", new TestingSource([1, 2, 3, 4]))
   *   .pipe(filter((x) => x % 2 === 0), map((x) => x * 10), keyOn("key", (x) => `k${x}`))
   *   .output("out", new TestingSink(out));
   * await runMain(flow);
   * assertEquals(out, [["k20", 20], ["k40", 40]]);
   * ```
   */
  pipe(): Stream<T>;
  /** Applies one operator. */
  pipe<A>(op1: OperatorFunction<T, A>): Stream<A>;
  /** Applies two operators. */
  pipe<A, B>(op1: OperatorFunction<T, A>, op2: OperatorFunction<A, B>): Stream<B>;
  /** Applies three operators. */
  pipe<A, B, C>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
  ): Stream<C>;
  /** Applies four operators. */
  pipe<A, B, C, D>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
  ): Stream<D>;
  /** Applies five operators. */
  pipe<A, B, C, D, E>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
  ): Stream<E>;
  /** Applies six operators. */
  pipe<A, B, C, D, E, F>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
  ): Stream<F>;
  /** Applies seven operators. */
  pipe<A, B, C, D, E, F, G>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
    op7: OperatorFunction<F, G>,
  ): Stream<G>;
  /** Applies eight operators. */
  pipe<A, B, C, D, E, F, G, H>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
    op7: OperatorFunction<F, G>,
    op8: OperatorFunction<G, H>,
  ): Stream<H>;
  /** Applies nine operators. */
  pipe<A, B, C, D, E, F, G, H, I>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
    op7: OperatorFunction<F, G>,
    op8: OperatorFunction<G, H>,
    op9: OperatorFunction<H, I>,
  ): Stream<I>;
  /** Applies more than nine operators (the result type is not inferred past nine). */
  pipe<A, B, C, D, E, F, G, H, I>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
    op7: OperatorFunction<F, G>,
    op8: OperatorFunction<G, H>,
    op9: OperatorFunction<H, I>,
    ...more: AnyOperator[]
  ): Stream<unknown>;
  pipe(...ops: AnyOperator[]): Stream<unknown> {
    return new Stream(this.flow, this.flow.addPipe(this.id, ops));
  }

  /**
   * Writes every item to `sink`. A `FixedPartitionedSink` needs a keyed stream
   * (`[key, value]` pairs): the key picks the partition, the value is written.
   *
   * @param stepId The step's name.
   * @param sink A `DynamicSink` of the items, or a `FixedPartitionedSink` of the values.
   */
  output<V>(
    this: Stream<readonly [string, V]> | Stream<[string, V]>,
    stepId: string,
    sink: FixedPartitionedSink<V, unknown>,
  ): void;
  /** Writes every item to a dynamic sink. */
  output(stepId: string, sink: DynamicSink<T>): void;
  output(stepId: string, sink: unknown): void {
    this.flow.addOutput(this as Stream<unknown>, stepId, sink);
  }

  /**
   * Splits the stream in two: items for which `predicate` returns `true` go to `trues`, the
   * others to `falses`. A type-guard predicate narrows both sides. The predicate must return
   * a boolean; anything else fails the run.
   *
   * @example
   * ```ts
   * import { Dataflow } from "@weir/weir";
   * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
   * import { assertEquals } from "@std/assert";
   *
   * const nums: number[] = [];
   * const strs: string[] = [];
   * const flow = new Dataflow("split");
   * const { trues, falses } = flow.input("inp", new TestingSource<number | string>([1, "a", 2]))
   *   .branch("is_num", (x): x is number => typeof x === "number");
   * trues.output("nums", new TestingSink(nums));
   * falses.output("strs", new TestingSink(strs));
   * await runMain(flow);
   * assertEquals(nums, [1, 2]);
   * assertEquals(strs, ["a"]);
   * ```
   */
  branch<S extends T>(
    stepId: string,
    predicate: (item: T) => item is S,
  ): BranchOut<S, Exclude<T, S>>;
  /** Splits the stream by a boolean predicate. */
  branch(stepId: string, predicate: (item: T) => boolean): BranchOut<T, T>;
  branch(stepId: string, predicate: (item: T) => boolean): BranchOut<T, T> {
    const { trues, falses } = this.flow.addBranch(
      this as Stream<unknown>,
      stepId,
      predicate as (item: unknown) => unknown,
    );
    return { trues: new Stream(this.flow, trues), falses: new Stream(this.flow, falses) };
  }
}

/** A stream of `[key, value]` pairs: what keyed and stateful operators consume. */
export type KeyedStream<V> = Stream<[string, V]>;
