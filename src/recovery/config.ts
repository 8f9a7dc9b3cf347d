/**
 * {@linkcode RecoveryConfig}: how a run keeps and resumes its state.
 *
 * @module
 */
import type { RecoveryBackend } from "./backend.ts";
import type { ClassSerde } from "./codec.ts";

/**
 * How a run keeps and resumes its state (`run(flow, { recovery })`).
 *
 * @example
 * ```ts
 * import { Dataflow, run, statefulMap } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const recovery = { backend: fsBackend(dir), create: true };
 * const out: [string, number][] = [];
 * const inp = [["a", 1], ["a", 2], TestingSource.EOF(), ["a", 3]] as const;
 * const flow = new Dataflow("sum");
 * flow.input("inp", new TestingSource(inp))
 *   .pipe(statefulMap("sum", (s: number | undefined, v: number) => [(s ?? 0) + v, (s ?? 0) + v]))
 *   .output("out", new TestingSink(out));
 * await run(flow, { recovery });
 * assertEquals(out, [["a", 1], ["a", 3]]);
 * await run(flow, { recovery }); // continues after the EOF marker, with the sum restored
 * assertEquals(out, [["a", 1], ["a", 3], ["a", 6]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface RecoveryConfig {
  /** Where snapshots are kept (`fsBackend(dir)`, `kvBackend(path)`, or your own). */
  readonly backend: RecoveryBackend;
  /**
   * How long (ms of the run's clock) superseded epochs are kept before they are folded
   * away (default 0). A backup of the store taken within this interval of another stays
   * consistent with it. The resume point is always the last committed epoch.
   */
  readonly backupInterval?: number;
  /**
   * Initialise the store when it does not exist yet (default false: refuse). Never starts a
   * store over segments whose manifest was lost (see {@linkcode initStore}'s `adopt`).
   */
  readonly create?: boolean;
  /**
   * Drop the state of steps that are no longer in the flow, and the positions of source or
   * sink partitions that the flow's sources and sinks no longer list (a renamed input file,
   * a `DirSink` with fewer files) (default false: refuse to run, listing them). The next
   * commit records the drop.
   */
  readonly dropOrphans?: boolean;
  /** How to store instances of your own classes (see {@linkcode ClassSerde}). */
  readonly classes?: readonly ClassSerde[];
}
