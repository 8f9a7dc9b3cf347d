/**
 * collect: gathers each key's values into arrays by size and time.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DISCARD, RETAIN, statefulBatch, type StatefulOptions } from "./stateful_batch.ts";

/** Options of {@linkcode collect}. */
export interface CollectOptions extends StatefulOptions {
  /** Emit a key's array this long (ms of the run's clock) after its latest value. */
  readonly timeout: number;
  /** Emit a key's array as soon as it holds this many values. */
  readonly maxSize: number;
}

/** The snapshot of one key of {@linkcode collect}. */
export interface CollectState<V> {
  /** The values gathered so far. */
  readonly acc: V[];
  /** When the array will be emitted if no value arrives (epoch ms). */
  readonly timeoutAt: number;
}

/**
 * Gathers each key's values into an array and emits `[key, array]` when it reaches
 * `maxSize`, when `timeout` ms passed since the key's latest value (each value re-arms the
 * timeout), or at EOF. Like Bytewax's `collect`.
 *
 * 1. A value is appended and the key's deadline becomes `now + timeout`.
 * 2. At `maxSize` values the array is emitted and a new one starts.
 * 3. At the deadline, or at EOF, a non-empty array is emitted and the key's state dropped.
 *
 * @param stepId The step's name.
 * @param options `timeout` (ms), `maxSize`, and state TTL.
 *
 * @example Batches of three, the rest at EOF
 * ```ts
 * import { collect, Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number[]][] = [];
 * const flow = new Dataflow("collect_demo");
 * flow.input("inp", new TestingSource<[string, number]>([0, 1, 2, 3, 4].map((v) => ["ALL", v])))
 *   .pipe(collect("batches", { timeout: 10_000, maxSize: 3 }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["ALL", [0, 1, 2]], ["ALL", [3, 4]]]);
 * ```
 */
export function collect<V>(
  stepId: string,
  options: CollectOptions,
): WeirOperator<readonly [string, V], [string, V[]]> {
  const { timeout, maxSize } = options;
  if (!(timeout >= 0)) {
    throw new RangeError(`collect("${stepId}") needs a timeout >= 0 ms, got ${timeout}`);
  }
  if (!Number.isInteger(maxSize) || maxSize < 1) {
    throw new RangeError(`collect("${stepId}") needs a positive integer maxSize, got ${maxSize}`);
  }
  return statefulBatch<V, V[], CollectState<V>>(stepId, (resume, ctx) => {
    let acc: V[] = resume ? [...resume.acc] : [];
    let timeoutAt = resume?.timeoutAt ?? ctx.now() + timeout;
    const flushAll = (): [V[][], boolean] => {
      const out = acc.length > 0 ? [acc] : [];
      acc = [];
      return [out, DISCARD];
    };
    return {
      onBatch(values) {
        const out: V[][] = [];
        const now = ctx.now();
        for (let i = 0; i < values.length; i++) {
          acc.push(values[i]!);
          timeoutAt = now + timeout;
          if (acc.length >= maxSize) {
            out.push(acc);
            acc = [];
          }
        }
        return [out, acc.length === 0 ? DISCARD : RETAIN];
      },
      onNotify: flushAll,
      onEof: flushAll,
      notifyAt: () => timeoutAt,
      snapshot: () => ({ acc: [...acc], timeoutAt }),
    };
  }, options);
}
