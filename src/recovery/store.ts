/**
 * The recovery store: epochs of snapshots over any {@linkcode RecoveryBackend}.
 *
 * Each committed epoch is one immutable *delta* segment holding what changed in it: the
 * snapshot (or discard) of every key a stateful step touched, and the position of every
 * source partition and written sink partition. Writing the segment is the commit. Now and
 * then deltas old enough to be outside the backup interval are folded into a *base*
 * segment (the merged state up to an epoch), written before the folded segments are deleted,
 * so a crash at any point leaves a loadable store. Loading reads the newest base and the
 * deltas after it, checking each segment's checksums and that the chain of epochs has no
 * gap.
 *
 * Platform-neutral: the Deno filesystem and KV backends live in `deno_fs.ts` and
 * `deno_kv.ts`.
 *
 * @module
 */
import type { RecoveryBackend } from "./backend.ts";
import type { ClassSerde } from "./codec.ts";
import type { RecoveryConfig } from "./config.ts";
import { RecoveryError } from "./errors.ts";
import { foldSegments } from "./fold.ts";
import { lazyIndexMaker, type LazyKeys } from "./lazy_keys.ts";
import {
  checkFlow,
  listInfos,
  type Manifest,
  type ParsedName,
  parseManifest,
  readManifestOf,
  refuseLostSegments,
  refuseMissingManifest,
  type SegmentInfo,
  segmentName,
  writeManifest,
} from "./manifest.ts";
import { mapVisitor, type RestoredState } from "./restored.ts";
import {
  BASE,
  CorruptSegmentError,
  DELTA,
  FORMAT_VERSION,
  readSegment,
  type SegmentVisitor,
  SegmentWriter,
  type SnapshotKind,
} from "./segment.ts";

// The names runtime modules, the backends and tests import from here, defined in the modules
// this one was split into.

/** Options of {@linkcode RecoveryStore.loadInto}. */
export interface LoadOptions {
  /**
   * Load the state as of this epoch, not the newest: epochs after it are deleted from the
   * store (the next commit rewrites epoch `upTo + 1`). Refused when they were folded into a
   * base already.
   */
  readonly upTo?: number;
}

/**
 * A visitor that takes some steps' keys lazily: the entries of a step whose `step` returns
 * true are indexed, not decoded, and handed over at the end of the load as one state.
 */
export interface LazyVisitor extends SegmentVisitor {
  /** A step's restored keys (after every segment was read and checked). */
  lazyState(kind: SnapshotKind, stepId: string, state: LazyKeys): void;
}

/** Deltas folded together at most this many at a time regardless of sizes. */
const MAX_DELTAS = 32;

/** An opened store, bound to one flow. */
export class RecoveryStore {
  /** The last committed epoch (0 for an empty store). */
  lastEpoch = 0;
  /** Segments, oldest first (after {@linkcode RecoveryStore.load}). */
  private segments: SegmentInfo[] = [];
  private compacting: Promise<void> | undefined = undefined;
  private compactionError: unknown = undefined;
  /** DROP ops to write with the next commit. */
  private drops: Array<[SnapshotKind, string]> = [];
  /** DEL ops to write with the next commit: keys of a step (orphaned partitions). */
  private keyDrops: Array<[SnapshotKind, string, readonly string[]]> = [];
  /** Segments superseded by a base, found at load; deleted after the first commit. */
  private stale: string[] = [];

  private constructor(
    readonly backend: RecoveryBackend,
    private manifest: Manifest,
    private readonly classes: readonly ClassSerde[],
    private readonly backupInterval: number,
  ) {}

  /**
   * Opens (or, with `create`, initialises) the store for the flow `flowId`.
   *
   * Nothing is written before the claim: it reads the manifest and refuses a store that is
   * missing (without `create`), foreign, of another format, or whose manifest was lost while
   * segments remain; then claims the store (`backend.claim`), reads the manifest again under
   * the claim, writes it if it is new or not yet bound to a flow, and lets the backend
   * collect garbage (`backend.collectGarbage`).
   *
   * Throws {@linkcode RecoveryError} when it refuses; the backend is closed then (as
   * {@linkcode RecoveryStore.close} would), releasing its claim, so a backend that opened a
   * database to read the manifest does not keep it open.
   */
  static async open(config: RecoveryConfig, flowId: string, now: number): Promise<RecoveryStore> {
    try {
      return await RecoveryStore.#open(config, flowId, now);
    } catch (err) {
      try {
        await config.backend.close();
      } catch {
        // The open failure is the error to report.
      }
      throw err;
    }
  }

  static async #open(config: RecoveryConfig, flowId: string, now: number): Promise<RecoveryStore> {
    const { backend } = config;
    const backupInterval = config.backupInterval ?? 0;
    if (typeof backupInterval !== "number" || !(backupInterval >= 0)) {
      throw new RangeError(`backupInterval must be a number of ms >= 0, got ${backupInterval}`);
    }
    const create = config.create === true;
    // Nothing is written before the claim: a store that is refused is left as it was.
    const before = await readManifestOf(backend);
    if (before === undefined) await refuseMissingManifest(backend, create);
    else checkFlow(backend, parseManifest(backend, before), flowId);
    if (backend.claim !== undefined) {
      let claimed;
      try {
        claimed = await backend.claim();
      } catch (err) {
        throw new RecoveryError(`Cannot claim the recovery store in ${backend.description}`, {
          cause: err,
        });
      }
      if (!claimed) {
        throw new RecoveryError(
          `The recovery store in ${backend.description} is in use by another run (another ` +
            `process, or another run in this one); two writers would corrupt it`,
        );
      }
    }
    // Under the claim, the manifest is read again: another writer may have changed it.
    const bytes = await readManifestOf(backend);
    let manifest: Manifest;
    if (bytes === undefined) {
      await refuseMissingManifest(backend, create);
      manifest = {
        format: "weir-recovery",
        version: FORMAT_VERSION,
        flowId,
        createdAt: now,
        committed: false,
      };
      await writeManifest(backend, manifest);
    } else {
      manifest = parseManifest(backend, bytes);
      checkFlow(backend, manifest, flowId);
      if (manifest.flowId === null) {
        manifest = { ...manifest, flowId };
        await writeManifest(backend, manifest);
      }
    }
    if (backend.collectGarbage !== undefined) {
      try {
        await backend.collectGarbage();
      } catch (err) {
        throw new RecoveryError(
          `Cannot remove what interrupted writes left in the recovery store in ` +
            `${backend.description}`,
          { cause: err },
        );
      }
    }
    return new RecoveryStore(backend, manifest, config.classes ?? [], backupInterval);
  }

  /**
   * Reads the committed state: the newest base and every delta after it, in order (or the
   * state as of `options.upTo`, see {@linkcode LoadOptions}).
   * Throws {@linkcode RecoveryError} for a corrupt segment or a gap in the epochs.
   */
  async load(options: LoadOptions = {}): Promise<RestoredState> {
    const state: RestoredState = new Map();
    await this.loadInto(mapVisitor(state), options);
    return state;
  }

  /**
   * The newest committed epoch the store lists (0 when none), without reading segments: what
   * {@linkcode RecoveryStore.loadInto} would resume after, unless told to stop earlier.
   */
  async newestEpoch(): Promise<number> {
    let newest = 0;
    for (const s of await listInfos(this.backend)) if (s.epoch > newest) newest = s.epoch;
    return newest;
  }

  /**
   * Keeps the newest committed epoch out of folding, so the epoch before it stays loadable
   * (`loadInto(visitor, { upTo })`): set when a sink commits each epoch after the store does
   * (an `EpochCommitter`), until which the newest epoch may still be abandoned.
   */
  keepNewestEpoch = false;

  /**
   * Like {@linkcode RecoveryStore.load}, but replays the segments (newest base first, then
   * each delta in order) into `visitor` instead of building maps: a resumed run restores keys
   * straight into its steps. A {@linkcode LazyVisitor} gets the steps whose `step` returned
   * true as one {@linkcode LazyKeys} each, once every segment was read and checked (when
   * `lazy_state.ts` is not loaded — the fs and KV backends load it, a browser bundle does not —,
   * those steps are replayed as for any visitor).
   */
  async loadInto(visitor: SegmentVisitor, options: LoadOptions = {}): Promise<void> {
    const { backend } = this;
    let listed = await listInfos(backend);
    refuseLostSegments(backend, this.manifest, listed.length);
    const upTo = options.upTo;
    if (upTo !== undefined) {
      const later = listed.filter((s) => s.epoch > upTo);
      const newest = later.find((s) => s.type === "base");
      if (newest !== undefined) {
        throw new RecoveryError(
          `Cannot resume the recovery store in ${backend.description} from epoch ${upTo}: ` +
            `epochs up to ${newest.epoch} were folded into one base (${newest.name}), so ` +
            `epoch ${upTo}'s state is gone`,
        );
      }
      if (later.length > 0) {
        // The next commit writes epoch upTo + 1 again: the abandoned epochs must go first,
        // or a later load would chain the new delta to the old ones after it.
        try {
          await backend.deleteSegments(later.map((s) => s.name));
        } catch (err) {
          throw new RecoveryError(
            `Cannot drop epochs after ${upTo} from the recovery store in ` +
              `${backend.description}`,
            { cause: err },
          );
        }
        listed = listed.filter((s) => s.epoch <= upTo);
      }
    }
    let base: ParsedName | undefined;
    for (const s of listed) {
      if (s.type === "base" && (base === undefined || s.epoch > base.epoch)) base = s;
    }
    const baseEpoch = base?.epoch ?? 0;
    this.stale = listed
      .filter((s) => s !== base && s.epoch <= baseEpoch)
      .map((s) => s.name);
    const deltas = listed.filter((s) => s.type === "delta" && s.epoch > baseEpoch);
    deltas.sort((a, b) => a.epoch - b.epoch);
    const infos: SegmentInfo[] = [];
    let prev = 0;
    const lazy = "lazyState" in visitor
      ? lazyIndexMaker()?.(this.classes, backend.description)
      : undefined;
    for (const s of base !== undefined ? [base, ...deltas] : deltas) {
      const bytes = await this.read(s.name);
      lazy?.segment(s.name, bytes);
      let trailer;
      try {
        trailer = readSegment(s.name, bytes, visitor, this.classes, false, lazy);
      } catch (err) {
        // Only damage is the store's fault; a visitor's own failure passes through.
        if (!(err instanceof CorruptSegmentError)) throw err;
        throw new RecoveryError(
          `Cannot resume from the recovery store in ${backend.description}: ` +
            `${(err as Error).message}`,
          { cause: err },
        );
      }
      const wantType = s.type === "base" ? BASE : DELTA;
      if (trailer.epoch !== s.epoch || trailer.type !== wantType) {
        throw new RecoveryError(
          `Segment ${s.name} in ${backend.description} says it is ${
            trailer.type === BASE ? "base" : "delta"
          } of epoch ${trailer.epoch}: the store was tampered with`,
        );
      }
      if (s.type === "delta" && trailer.prevEpoch !== prev) {
        throw new RecoveryError(
          `The recovery store in ${backend.description} is missing epochs: segment ${s.name} ` +
            `follows epoch ${trailer.prevEpoch}, but the segment before it ends epoch ${prev}`,
        );
      }
      prev = s.epoch;
      infos.push({
        name: s.name,
        type: s.type,
        epoch: s.epoch,
        bytes: bytes.length,
        committedAt: trailer.committedAt,
        entries: trailer.entries,
      });
    }
    if (lazy !== undefined) {
      for (const [kind, stepId, state] of lazy.states()) {
        (visitor as LazyVisitor).lazyState(kind, stepId, state);
      }
    }
    this.segments = infos;
    this.lastEpoch = prev;
  }

  private async read(name: string): Promise<Uint8Array> {
    try {
      return await this.backend.readSegment(name);
    } catch (err) {
      throw new RecoveryError(
        `Cannot read segment ${name} of the recovery store in ${this.backend.description}`,
        { cause: err },
      );
    }
  }

  /** Records that the next commit drops every key of a step (orphaned state). */
  dropStep(kind: SnapshotKind, stepId: string): void {
    this.drops.push([kind, stepId]);
  }

  /**
   * Records that the next commit deletes `keys` of a step (orphaned partition positions of a
   * source or sink that no longer lists them).
   */
  dropKeys(kind: SnapshotKind, stepId: string, keys: readonly string[]): void {
    this.keyDrops.push([kind, stepId, keys]);
  }

  /** A writer for the next epoch's delta. */
  beginEpoch(): SegmentWriter {
    const seg = new SegmentWriter(DELTA, this.classes);
    for (const [kind, stepId] of this.drops) seg.drop(kind, stepId);
    for (const [kind, stepId, keys] of this.keyDrops) {
      seg.step(kind, stepId);
      for (const key of keys) seg.del(key);
    }
    return seg;
  }

  /**
   * Commits `epoch`: writes its delta durably. When this resolves, a crash resumes after
   * `epoch`. Then folds old deltas in the background (awaited by the next commit or close).
   * Resolves with the segment's size in bytes (for metrics).
   */
  async commit(epoch: number, seg: SegmentWriter, now: number): Promise<number> {
    if (this.compactionError !== undefined) throw this.compactionFailure();
    if (!(epoch > this.lastEpoch)) {
      throw new RangeError(`Epoch ${epoch} is not after the last committed ${this.lastEpoch}`);
    }
    const bytes = seg.finish(epoch, this.lastEpoch, now);
    const name = segmentName("delta", epoch);
    try {
      await this.backend.writeSegment(name, bytes);
    } catch (err) {
      throw new RecoveryError(
        `Cannot commit epoch ${epoch} to the recovery store in ${this.backend.description}`,
        { cause: err },
      );
    }
    if (this.manifest.committed !== true) {
      // Once per store: from now on, a store without segments has lost them.
      const manifest = { ...this.manifest, committed: true };
      await writeManifest(
        this.backend,
        manifest,
        `Cannot record the first commit (epoch ${epoch}) in the manifest of the recovery ` +
          `store in`,
      );
      this.manifest = manifest;
    }
    this.drops = [];
    this.keyDrops = [];
    this.lastEpoch = epoch;
    this.segments.push({
      name,
      type: "delta",
      epoch,
      bytes: bytes.length,
      committedAt: now,
      entries: seg.entries,
    });
    if (this.compacting === undefined) {
      const work = this.compactionWork(now);
      if (work !== undefined || this.stale.length > 0) {
        this.compacting = this.compact(work).catch((err) => {
          this.compactionError = err;
        }).finally(() => {
          this.compacting = undefined;
        });
      }
    }
    return bytes.length;
  }

  /** The deltas to fold now, if folding is due. */
  private compactionWork(now: number): SegmentInfo[] | undefined {
    const segs = this.segments;
    const base = segs[0]?.type === "base" ? segs[0] : undefined;
    const cutoff = now - this.backupInterval;
    const work: SegmentInfo[] = [];
    let bytes = 0;
    const last = this.keepNewestEpoch ? segs[segs.length - 1] : undefined;
    for (const s of segs) {
      if (s.type !== "delta" || s === last) continue;
      if (s.committedAt > cutoff) break;
      work.push(s);
      bytes += s.bytes;
    }
    if (work.length === 0) return undefined;
    // Amortised: a base is rewritten once the deltas it would absorb weigh twice as much as
    // it, so the store holds at most about three times the live state, each byte is rewritten
    // O(1) times, and a workload that touches every key every epoch folds every other epoch.
    if (bytes >= 2 * (base?.bytes ?? 0) || work.length >= MAX_DELTAS) return work;
    return undefined;
  }

  /** Folds `work` (a prefix of the deltas) and the current base into a new base. */
  private async compact(work: SegmentInfo[] | undefined): Promise<void> {
    if (work !== undefined) {
      const base = this.segments[0]?.type === "base" ? this.segments[0] : undefined;
      const inputs = [];
      for (const s of base !== undefined ? [base, ...work] : work) {
        inputs.push({ name: s.name, bytes: await this.read(s.name) });
      }
      const last = work[work.length - 1]!;
      const { bytes, entries } = foldSegments(
        inputs,
        last.epoch,
        base?.epoch ?? 0,
        last.committedAt,
      );
      const name = segmentName("base", last.epoch);
      await this.backend.writeSegment(name, bytes);
      const folded = new Set([...work.map((s) => s.name), ...(base ? [base.name] : [])]);
      this.segments = [
        {
          name,
          type: "base",
          epoch: last.epoch,
          bytes: bytes.length,
          committedAt: last.committedAt,
          entries,
        },
        ...this.segments.filter((s) => !folded.has(s.name)),
      ];
      await this.backend.deleteSegments([...folded]);
    }
    if (this.stale.length > 0) {
      const stale = this.stale;
      this.stale = [];
      await this.backend.deleteSegments(stale);
    }
  }

  private compactionFailure(): RecoveryError {
    return new RecoveryError(
      `Folding old epochs in the recovery store in ${this.backend.description} failed`,
      { cause: this.compactionError },
    );
  }

  /** Waits for background folding; reports its failure. */
  async flush(): Promise<void> {
    while (this.compacting !== undefined) await this.compacting;
    if (this.compactionError !== undefined) throw this.compactionFailure();
  }

  /** Waits for background work and closes the backend. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.backend.close();
    }
  }
}
