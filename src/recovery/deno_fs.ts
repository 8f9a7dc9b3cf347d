/**
 * The filesystem recovery backend (Deno only: it uses `Deno.*` file APIs).
 *
 * A store is a directory:
 * ```text
 * <dir>/weir-store.json          the manifest (format version, flow id)
 * <dir>/weir-store.lock          locked (flock) by the run writing the store
 * <dir>/segments/delta-<epoch>   one per committed epoch
 * <dir>/segments/base-<epoch>    merged state up to an epoch
 * ```
 * Every file is written to a temporary name, fsynced, renamed into place, and the directory
 * is fsynced: a crash leaves either the whole file or none of it.
 *
 * @module
 */
import type { RecoveryBackend } from "./backend.ts";

const MANIFEST = "weir-store.json";
const LOCK = "weir-store.lock";
const SEGMENTS = "segments";
const TMP_SUFFIX = ".tmp";

/**
 * A recovery backend storing segments as files in the directory `dir`.
 *
 * @example
 * ```ts
 * import { Dataflow, run } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const out: number[] = [];
 * const flow = new Dataflow("fs_demo");
 * flow.input("inp", new TestingSource([1, 2, TestingSource.EOF(), 3]))
 *   .output("out", new TestingSink(out));
 * const recovery = { backend: fsBackend(dir), create: true };
 * await run(flow, { recovery });
 * await run(flow, { recovery });
 * assertEquals(out, [1, 2, 3]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function fsBackend(dir: string): RecoveryBackend {
  return new FsBackend(dir);
}

class FsBackend implements RecoveryBackend {
  readonly description: string;
  private readonly segDir: string;
  private segDirReady = false;
  /** The open lock file while the store is claimed. */
  private lock: Deno.FsFile | undefined = undefined;
  private tmpSeq = 0;
  /** Temporary files of writes in progress (base names), which listSegments must leave. */
  private readonly writing = new Set<string>();

  constructor(private readonly dir: string) {
    this.description = `directory ${dir}`;
    this.segDir = `${dir}/${SEGMENTS}`;
  }

  async readManifest(): Promise<Uint8Array | undefined> {
    try {
      return await Deno.readFile(`${this.dir}/${MANIFEST}`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  }

  async writeManifest(bytes: Uint8Array): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    await this.atomicWrite(this.dir, MANIFEST, bytes);
  }

  async listSegments(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.segDir)) {
        if (!e.isFile) continue;
        if (e.name.endsWith(TMP_SUFFIX)) {
          // Left by a crash in the middle of a write: never part of the store. (Unless it
          // is a write of this backend still in progress.)
          if (this.writing.has(e.name)) continue;
          await Deno.remove(`${this.segDir}/${e.name}`).catch(() => {});
          continue;
        }
        names.push(e.name);
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
    return names;
  }

  async readSegment(name: string): Promise<Uint8Array> {
    return await Deno.readFile(`${this.segDir}/${name}`);
  }

  async writeSegment(name: string, bytes: Uint8Array): Promise<void> {
    if (!this.segDirReady) {
      await Deno.mkdir(this.segDir, { recursive: true });
      await syncDir(this.dir);
      this.segDirReady = true;
    }
    await this.atomicWrite(this.segDir, name, bytes);
  }

  async deleteSegments(names: readonly string[]): Promise<void> {
    let removed = 0;
    for (const name of names) {
      try {
        await Deno.remove(`${this.segDir}/${name}`);
        removed++;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    if (removed > 0) await syncDir(this.segDir);
  }

  /**
   * Takes an exclusive advisory lock (flock) on `<dir>/weir-store.lock`, held until `close()`;
   * the kernel drops it when the process dies, even by SIGKILL, so a restart is never blocked
   * by a crashed run.
   */
  async claim(): Promise<boolean> {
    if (this.lock !== undefined) return true;
    const f = await Deno.open(`${this.dir}/${LOCK}`, { read: true, write: true, create: true });
    let locked = false;
    try {
      locked = await f.tryLock(true);
    } finally {
      if (!locked) f.close();
    }
    if (locked) this.lock = f;
    return locked;
  }

  close(): void {
    const lock = this.lock;
    this.lock = undefined;
    lock?.close();
  }

  /** Writes `dir/name` via a temporary file, fsync, rename and directory fsync. */
  private async atomicWrite(dir: string, name: string, bytes: Uint8Array): Promise<void> {
    const base = `${name}.${Date.now().toString(36)}${this.tmpSeq++}${TMP_SUFFIX}`;
    const tmp = `${dir}/${base}`;
    this.writing.add(base);
    try {
      const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
      try {
        let off = 0;
        while (off < bytes.length) off += await f.write(bytes.subarray(off));
        await f.sync();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, `${dir}/${name}`);
    } finally {
      this.writing.delete(base);
    }
    await syncDir(dir);
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}
