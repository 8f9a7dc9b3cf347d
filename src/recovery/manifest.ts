/**
 * The store's manifest and segment names: reading, checking and writing the manifest
 * (`readManifestOf`, `parseManifest`, `checkFlow`, `writeManifest`), listing segments by name
 * (`listInfos`, `segmentName`) and the refusals of a store whose manifest or segments were
 * lost. Shared by `RecoveryStore` (`store.ts`) and `initStore`/`inspectStore` (`admin.ts`).
 *
 * @module
 */
import type { RecoveryBackend } from "./backend.ts";
import { RecoveryError } from "./errors.ts";
import { FORMAT_VERSION } from "./segment.ts";

/** The manifest's JSON. */
export interface Manifest {
  readonly format: "weir-recovery";
  readonly version: number;
  /** The flow bound to the store; `null` until the first run. */
  readonly flowId: string | null;
  readonly createdAt: number;
  /**
   * Set (once, by the first commit) when an epoch was committed: a store whose segments are
   * then all gone lost them, and is refused rather than restarted from nothing. Absent in
   * stores written before this field existed.
   */
  readonly committed?: boolean;
}

/** One segment as the store tracks it. */
export interface SegmentInfo {
  /** The backend name, `delta-<epoch>` or `base-<epoch>` (epoch zero-padded). */
  readonly name: string;
  /** `"delta"` or `"base"`. */
  readonly type: "delta" | "base";
  /** The epoch it completes. */
  readonly epoch: number;
  /** Encoded size in bytes. */
  readonly bytes: number;
  /** The run clock's time when it was committed. */
  readonly committedAt: number;
  /** Entries (keys and partitions) it holds. */
  readonly entries: number;
}

export const NAME_RE = /^(delta|base)-(\d{16})$/;

/** The backend name of a segment. */
export function segmentName(type: "delta" | "base", epoch: number): string {
  return `${type}-${String(epoch).padStart(16, "0")}`;
}

export interface ParsedName {
  readonly name: string;
  readonly type: "delta" | "base";
  readonly epoch: number;
}

/** The backend's segment names; a failure to list is a `RecoveryError` naming the store. */
async function listNames(backend: RecoveryBackend): Promise<string[]> {
  try {
    return await backend.listSegments();
  } catch (err) {
    throw new RecoveryError(`Cannot list the recovery store in ${backend.description}`, {
      cause: err,
    });
  }
}

export async function listInfos(backend: RecoveryBackend): Promise<ParsedName[]> {
  const names = await listNames(backend);
  const out: ParsedName[] = [];
  for (const name of names) {
    const m = NAME_RE.exec(name);
    if (m === null) {
      throw new RecoveryError(
        `Unexpected segment "${name}" in the recovery store in ${backend.description}`,
      );
    }
    out.push({ name, type: m[1] as "delta" | "base", epoch: Number(m[2]) });
  }
  return out;
}

export async function readManifestOf(backend: RecoveryBackend): Promise<Uint8Array | undefined> {
  try {
    return await backend.readManifest();
  } catch (err) {
    throw new RecoveryError(`Cannot read the recovery store in ${backend.description}`, {
      cause: err,
    });
  }
}

/** Refuses a store bound to another flow. */
export function checkFlow(backend: RecoveryBackend, manifest: Manifest, flowId: string): void {
  if (manifest.flowId !== null && manifest.flowId !== flowId) {
    throw new RecoveryError(
      `The recovery store in ${backend.description} belongs to the flow ` +
        `"${manifest.flowId}", not "${flowId}"; use another store for this flow`,
    );
  }
}

/**
 * For a location without a manifest: refuses it when it holds segments (the manifest was
 * lost: a new store must not start over them) or, unless `create`, because it was never
 * initialised. Reads only.
 */
export async function refuseMissingManifest(
  backend: RecoveryBackend,
  create: boolean,
): Promise<void> {
  const found = await describeSegments(backend);
  if (found !== undefined) throw lostManifest(backend, found);
  if (!create) {
    throw new RecoveryError(
      `No recovery store in ${backend.description}: it was never initialised. Pass ` +
        `create: true (CLI: weir recovery init <dir>) to start a new one`,
    );
  }
}

export function lostManifest(backend: RecoveryBackend, found: string): RecoveryError {
  return new RecoveryError(
    `The recovery store in ${backend.description} has no manifest but holds ${found}: ` +
      `its manifest was lost. Restore the manifest from a backup, or adopt the segments ` +
      `with initStore(backend, now, { adopt: true }) (CLI: weir recovery init --adopt ` +
      `<dir>) and run again`,
  );
}

/** `"3 segments (epochs 4 to 9)"`, or undefined when the backend lists no segment. */
export async function describeSegments(backend: RecoveryBackend): Promise<string | undefined> {
  const names = await listNames(backend);
  if (names.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const n of names) {
    const m = NAME_RE.exec(n);
    if (m === null) continue;
    lo = Math.min(lo, Number(m[2]));
    hi = Math.max(hi, Number(m[2]));
  }
  const count = `${names.length} segment${names.length === 1 ? "" : "s"}`;
  if (lo > hi) return count;
  return lo === hi ? `${count} (epoch ${lo})` : `${count} (epochs ${lo} to ${hi})`;
}

/** Refuses a store whose manifest says epochs were committed but that lists no segment. */
export function refuseLostSegments(
  backend: RecoveryBackend,
  manifest: Manifest,
  listed: number,
): void {
  if (listed > 0 || manifest.committed !== true) return;
  throw new RecoveryError(
    `The recovery store in ${backend.description} lost its segments: its manifest says ` +
      `epochs were committed, but it holds no segment. Restore the segments from a backup; ` +
      `to start over instead, delete the store and create a new one (its state is gone)`,
  );
}

export async function writeManifest(
  backend: RecoveryBackend,
  m: Manifest,
  what = "Cannot initialise the recovery store in",
): Promise<void> {
  try {
    await backend.writeManifest(new TextEncoder().encode(JSON.stringify(m) + "\n"));
  } catch (err) {
    throw new RecoveryError(`${what} ${backend.description}`, { cause: err });
  }
}

export function parseManifest(backend: RecoveryBackend, bytes: Uint8Array): Manifest {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new RecoveryError(
      `The manifest of the recovery store in ${backend.description} is corrupt`,
      { cause: err },
    );
  }
  if (m === null || typeof m !== "object" || m.format !== "weir-recovery") {
    throw new RecoveryError(
      `${backend.description} does not hold a weir recovery store (bad manifest)`,
    );
  }
  if (m.version !== FORMAT_VERSION) {
    throw new RecoveryError(
      `The recovery store in ${backend.description} has format version ${m.version}; this ` +
        `version of weir reads version ${FORMAT_VERSION}`,
    );
  }
  return m as Manifest;
}
