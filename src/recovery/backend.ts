/**
 * The interface every recovery backend implements: a small store of named, immutable byte
 * blobs (segments) plus one manifest. It knows nothing of epochs, steps or values — that is
 * {@linkcode RecoveryStore}'s job — so a backend is a page of code over a filesystem, Deno KV
 * or IndexedDB, and one conformance suite (tests/recovery/conformance.ts) checks them all.
 *
 * @module
 */

/**
 * Where snapshots are kept. The contract, which the conformance suite checks:
 * - `writeSegment` is atomic and durable: once it resolves, the segment survives a crash
 *   (SIGKILL, power loss where the medium allows) and reads back byte for byte; if the
 *   process dies before it resolves, the segment is either wholly present or absent from
 *   `listSegments`.
 * - Segments are immutable: a name is written once (writing an existing name replaces it
 *   atomically, which the store only does when repairing).
 * - `writeManifest` is atomic too; `readManifest` returns `undefined` when the store was
 *   never initialised (including when its location does not exist).
 * - `deleteSegments` may be interrupted: the store tolerates any subset having been deleted.
 * - Reading never writes: `readManifest`, `listSegments` and `readSegment` change nothing,
 *   so a tool that only inspects a store (`inspectStore`, `weir recovery inspect`) cannot
 *   disturb a run writing it. Leftovers of interrupted writes are removed only by
 *   `collectGarbage`, which the store calls only after `claim` succeeded.
 *
 * @example An in-memory backend (for illustration; weir ships filesystem and Deno KV ones)
 * ```ts
 * import type { RecoveryBackend } from "@weir/weir";
 *
 * class MemoryBackend implements RecoveryBackend {
 *   readonly description = "memory";
 *   manifest: Uint8Array | undefined;
 *   readonly segments = new Map<string, Uint8Array>();
 *   readManifest() {
 *     return Promise.resolve(this.manifest);
 *   }
 *   writeManifest(bytes: Uint8Array) {
 *     this.manifest = bytes.slice();
 *     return Promise.resolve();
 *   }
 *   listSegments() {
 *     return Promise.resolve([...this.segments.keys()]);
 *   }
 *   readSegment(name: string) {
 *     const s = this.segments.get(name);
 *     return s ? Promise.resolve(s) : Promise.reject(new Error(`no segment ${name}`));
 *   }
 *   writeSegment(name: string, bytes: Uint8Array) {
 *     this.segments.set(name, bytes.slice());
 *     return Promise.resolve();
 *   }
 *   deleteSegments(names: string[]) {
 *     for (const n of names) this.segments.delete(n);
 *     return Promise.resolve();
 *   }
 *   close() {}
 * }
 * const backend: RecoveryBackend = new MemoryBackend();
 * ```
 */
export interface RecoveryBackend {
  /** Names the store in error messages, e.g. `directory /var/lib/weir/orders`. */
  readonly description: string;
  /** The manifest, or `undefined` when the store was never initialised. */
  readManifest(): Promise<Uint8Array | undefined>;
  /** Writes the manifest atomically (creating the store's location if needed). */
  writeManifest(bytes: Uint8Array): Promise<void>;
  /** The names of every complete segment, in any order. */
  listSegments(): Promise<string[]>;
  /** Reads a whole segment. Rejects when it does not exist. */
  readSegment(name: string): Promise<Uint8Array>;
  /** Writes a segment atomically and durably (see the contract above). */
  writeSegment(name: string, bytes: Uint8Array): Promise<void>;
  /** Deletes segments (missing names are ignored). */
  deleteSegments(names: readonly string[]): Promise<void>;
  /**
   * Optional: claims the store for this backend's writes, so that two runs never write one
   * store at once. Resolves `false` when another holder has it. The claim must end with
   * `close()` and with the process (a crashed run must not keep it). `fsBackend` implements
   * it with an advisory lock on a file; a backend without it does not detect a second writer.
   * A backend whose claim can be lost while the process lives (a lease, as `kvBackend`'s)
   * must fence: once the claim is lost, every later write or delete fails without touching
   * the store. `claim` may wait, e.g. for a crashed holder's lease to run out.
   */
  claim?(): Promise<boolean>;
  /**
   * Optional: removes what interrupted writes left behind (temporary files, unlisted chunks),
   * never anything another writer may still be writing. Called by the store only while it
   * holds the claim, right after claiming.
   */
  collectGarbage?(): Promise<void>;
  /** Releases the backend's resources (and its claim). */
  close(): void | Promise<void>;
}
