/**
 * Store administration without a run: {@linkcode initStore} (`weir recovery init`) and
 * {@linkcode inspectStore} (`weir recovery inspect`).
 *
 * @module
 */
import type { RecoveryBackend } from "./backend.ts";
import { RecoveryError } from "./errors.ts";
import {
  describeSegments,
  listInfos,
  lostManifest,
  type Manifest,
  parseManifest,
  readManifestOf,
  refuseLostSegments,
  type SegmentInfo,
  writeManifest,
} from "./manifest.ts";
import { mapVisitor, splitStateKey } from "./restored.ts";
import { CorruptSegmentError, FORMAT_VERSION, readSegment, type SnapshotKind } from "./segment.ts";

/** Options of {@linkcode initStore}. */
export interface InitStoreOptions {
  /**
   * Write a manifest over segments already in the location, whose manifest was lost
   * (default false: refuse, saying what is there). The first run then binds the store to its
   * flow and resumes from the segments.
   */
  readonly adopt?: boolean;
}

/**
 * Initialises an empty store not yet bound to a flow (the first run binds it); what
 * `weir recovery init <dir>` does. Refuses a location that already holds a store, or
 * segments without a manifest unless `options.adopt` is set. Claims the store while it
 * writes (when the backend can) and closes the backend.
 *
 * @example
 * ```ts
 * import { Dataflow, initStore, run } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * await initStore(fsBackend(dir), Date.now());
 * const flow = new Dataflow("demo");
 * flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
 * // No create: true needed, the store exists.
 * assertEquals((await run(flow, { recovery: { backend: fsBackend(dir) } })).status, "eof");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @example Adopting segments whose manifest was lost
 * ```ts
 * import { Dataflow, initStore, run, statefulMap } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const out: [string, number][] = [];
 * const inp = [["a", 1], TestingSource.EOF(), ["a", 2]] as const;
 * const flow = new Dataflow("sum");
 * flow.input("inp", new TestingSource(inp))
 *   .pipe(statefulMap("sum", (s: number | undefined, v: number) => [(s ?? 0) + v, (s ?? 0) + v]))
 *   .output("out", new TestingSink(out));
 * await run(flow, { recovery: { backend: fsBackend(dir), create: true } });
 * await Deno.remove(`${dir}/weir-store.json`); // lost
 * await initStore(fsBackend(dir), Date.now(), { adopt: true });
 * await run(flow, { recovery: { backend: fsBackend(dir) } });
 * assertEquals(out, [["a", 1], ["a", 3]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function initStore(
  backend: RecoveryBackend,
  now: number,
  options: InitStoreOptions = {},
): Promise<void> {
  try {
    if (backend.claim !== undefined && !(await backend.claim())) {
      throw new RecoveryError(
        `The recovery store in ${backend.description} is in use by another run; it already ` +
          `holds a recovery store`,
      );
    }
    const existing = await readManifestOf(backend);
    if (existing !== undefined) {
      parseManifest(backend, existing);
      throw new RecoveryError(`${backend.description} already holds a recovery store`);
    }
    const found = await describeSegments(backend);
    if (found !== undefined && options.adopt !== true) throw lostManifest(backend, found);
    await writeManifest(backend, {
      format: "weir-recovery",
      version: FORMAT_VERSION,
      flowId: null,
      createdAt: now,
      committed: found !== undefined,
    });
  } finally {
    await backend.close();
  }
}

/** What {@linkcode inspectStore} reports. */
export interface StoreReport {
  /** The flow bound to the store (`null` before the first run). */
  readonly flowId: string | null;
  /** The last committed epoch (0 when none). */
  readonly lastEpoch: number;
  /** Segments, oldest first. */
  readonly segments: readonly SegmentInfo[];
  /** Live entries per step: kind, step id, keys and their encoded bytes. */
  readonly steps: ReadonlyArray<
    { kind: SnapshotKind; stepId: string; keys: number; bytes: number }
  >;
}

/** How many times {@linkcode inspectStore} reads a store that a run keeps changing. */
const INSPECT_ATTEMPTS = 5;

/** A listed segment went away while it was being read (a run folded it). */
class SegmentsChanged extends Error {}

/**
 * Reads a store without running anything: its epochs, segments, and the live keys and bytes
 * of each step. Values of unregistered classes are counted, not decoded.
 *
 * Read-only: it writes and deletes nothing, so it is safe while a run writes the store.
 * When the run folds segments away between the listing and the reading, it lists again
 * (up to 5 readings in all).
 *
 * @example
 * ```ts
 * import { Dataflow, inspectStore, run, statefulMap } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const flow = new Dataflow("count");
 * flow.input("inp", new TestingSource([["a", 1], ["b", 2]] as [string, number][]))
 *   .pipe(statefulMap("last", (_s: number | undefined, v: number) => [v, v]))
 *   .output("out", new TestingSink([]));
 * await run(flow, { recovery: { backend: fsBackend(dir), create: true } });
 * const report = await inspectStore(fsBackend(dir));
 * assertEquals(report.flowId, "count");
 * assertEquals(report.steps.find((s) => s.stepId === "count.last")?.keys, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function inspectStore(backend: RecoveryBackend): Promise<StoreReport> {
  try {
    const bytes = await readManifestOf(backend);
    if (bytes === undefined) {
      const found = await describeSegments(backend);
      if (found !== undefined) throw lostManifest(backend, found);
      throw new RecoveryError(`No recovery store in ${backend.description}`);
    }
    const manifest = parseManifest(backend, bytes);
    for (let attempt = 1;; attempt++) {
      try {
        return await inspectOnce(backend, manifest);
      } catch (err) {
        if (!(err instanceof SegmentsChanged)) throw err;
        if (attempt === INSPECT_ATTEMPTS) {
          throw new RecoveryError(
            `Cannot inspect the recovery store in ${backend.description}: its segments ` +
              `changed during each of ${INSPECT_ATTEMPTS} readings (${err.message}); a run ` +
              `is folding it, try again`,
            { cause: err.cause },
          );
        }
      }
    }
  } finally {
    await backend.close();
  }
}

/** One listing and reading of the live segments; throws SegmentsChanged on a race. */
async function inspectOnce(backend: RecoveryBackend, manifest: Manifest): Promise<StoreReport> {
  const listed = await listInfos(backend);
  refuseLostSegments(backend, manifest, listed.length);
  let baseEpoch = 0;
  for (const s of listed) if (s.type === "base" && s.epoch > baseEpoch) baseEpoch = s.epoch;
  const live = listed
    .filter((s) => s.type === "base" ? s.epoch === baseEpoch : s.epoch > baseEpoch)
    .sort((a, b) => a.epoch - b.epoch || (a.type === "base" ? -1 : 1));
  const sizes = new Map<string, Map<string, number>>();
  const visitor = mapVisitor(sizes, true);
  const segments: SegmentInfo[] = [];
  let prev = 0;
  for (const s of live) {
    let bytes;
    try {
      bytes = await backend.readSegment(s.name);
    } catch (err) {
      // Gone since the listing (folded away by a run)? Then read the store again.
      const now = await listInfos(backend);
      if (!now.some((n) => n.name === s.name)) {
        throw new SegmentsChanged(`segment ${s.name} was removed`, { cause: err });
      }
      throw new RecoveryError(
        `Cannot read segment ${s.name} of the recovery store in ${backend.description}`,
        { cause: err },
      );
    }
    let t;
    try {
      t = readSegment(s.name, bytes, visitor, [], true);
    } catch (err) {
      if (!(err instanceof CorruptSegmentError)) throw err;
      throw new RecoveryError(
        `Cannot inspect the recovery store in ${backend.description}: ${err.message}`,
        { cause: err },
      );
    }
    if (s.type === "delta" && t.prevEpoch !== prev) {
      const gap = `segment ${s.name} follows epoch ${t.prevEpoch}, but the segment before ` +
        `it ends epoch ${prev}`;
      // A listing taken while a fold replaced deltas by a base can miss both: then the
      // names changed since, and the store is read again.
      const now = (await listInfos(backend)).map((n) => n.name).sort();
      const then = listed.map((n) => n.name).sort();
      if (now.join() !== then.join()) throw new SegmentsChanged(gap);
      throw new RecoveryError(
        `The recovery store in ${backend.description} is missing epochs: ${gap}`,
      );
    }
    prev = s.epoch;
    segments.push({
      name: s.name,
      type: s.type,
      epoch: s.epoch,
      bytes: bytes.length,
      committedAt: t.committedAt,
      entries: t.entries,
    });
  }
  const steps = [...sizes].map(([k, m]) => {
    const [kind, stepId] = splitStateKey(k);
    let bytes = 0;
    for (const n of m.values()) bytes += n;
    return { kind, stepId, keys: m.size, bytes };
  }).filter((s) => s.keys > 0);
  steps.sort((a, b) => a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0);
  return { flowId: manifest.flowId, lastEpoch: prev, segments, steps };
}
