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
 * Every file is written to a temporary name (`.<name>.weir-tmp-<random>`, next to its final
 * name), fsynced, renamed into place, and the directory is fsynced: a crash leaves either the
 * whole file or none of it. Reading never writes; temporary files a crash left behind are
 * removed by `collectGarbage`, which only the run holding the claim calls.
 *
 * @module
 */
import type { RecoveryBackend } from "./backend.ts";
// Resumes from this backend index keys and decode each on first use (lazy_keys.ts).
import "./lazy_state.ts";

const MANIFEST = "weir-store.json";
const LOCK = "weir-store.lock";
const SEGMENTS = "segments";
/** Marks weir's temporary files: `.<final name>.weir-tmp-<random>`. */
const TMP_MARK = ".weir-tmp-";
/** A temporary file of this version, or of earlier ones (`<final name>.<base36>.tmp`). */
const TMP_RE =
  /^\..+\.weir-tmp-[0-9a-f]+$|^(?:(?:delta|base)-\d{16}|weir-store\.json)\.[0-9a-z]+\.tmp$/;

/** Options of {@linkcode fsBackend}. */
export interface FsBackendOptions {
  /**
   * Permissions of the files the backend creates (segments, manifest, lock file); default
   * `0o600`: state is user data, readable by its owner only. Must include `0o600`.
   */
  readonly fileMode?: number;
  /**
   * Permissions of the directories the backend creates (the store's directory if it does
   * not exist, and `segments/`); default `0o700`. Must include `0o700`. An existing
   * directory keeps its permissions.
   */
  readonly dirMode?: number;
}

/**
 * A recovery backend storing segments as files in the directory `dir`.
 *
 * Files are created with mode `0o600` and directories with `0o700` unless `options` widens
 * them (`{ fileMode: 0o640, dirMode: 0o750 }` lets the owner's group read the store); a
 * widened mode is set exactly, whatever the process's umask.
 *
 * @param dir The store's directory (created by the first run with `create: true`, or by
 *   `weir recovery init`).
 * @param options File and directory permissions.
 *
 * @example Run twice over one store
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
 *
 * @example Private by default, wider on request
 * ```ts
 * import { Dataflow, run } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * const flow = new Dataflow("modes");
 * flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
 * await run(flow, { recovery: { backend: fsBackend(`${root}/a`), create: true } });
 * const backend = fsBackend(`${root}/b`, { fileMode: 0o640, dirMode: 0o750 });
 * await run(flow, { recovery: { backend, create: true } });
 * if (Deno.build.os !== "windows") {
 *   const mode = async (p: string) => (await Deno.stat(p)).mode! & 0o777;
 *   assertEquals(await mode(`${root}/a/weir-store.json`), 0o600);
 *   assertEquals(await mode(`${root}/a/segments`), 0o700);
 *   assertEquals(await mode(`${root}/b/weir-store.json`), 0o640);
 *   assertEquals(await mode(`${root}/b/segments`), 0o750);
 * }
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function fsBackend(dir: string, options: FsBackendOptions = {}): RecoveryBackend {
  return new FsBackend(
    dir,
    checkMode("fileMode", options.fileMode, 0o600),
    checkMode("dirMode", options.dirMode, 0o700),
  );
}

function checkMode(name: string, mode: number | undefined, owner: number): number {
  if (mode === undefined) return owner;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777 || (mode & owner) !== owner) {
    throw new RangeError(
      `fsBackend's ${name} must be an integer from 0o${owner.toString(8)} to 0o777 that ` +
        `includes 0o${owner.toString(8)} (the owner's access), got ${
          Number.isInteger(mode) ? "0o" + mode.toString(8) : String(mode)
        }`,
    );
  }
  return mode;
}

const CHMOD = Deno.build.os !== "windows";

class FsBackend implements RecoveryBackend {
  readonly description: string;
  private readonly segDir: string;
  private segDirReady = false;
  /** The open lock file while the store is claimed. */
  private lock: Deno.FsFile | undefined = undefined;
  /** Temporary files of writes in progress (full paths), which collectGarbage must leave. */
  private readonly writing = new Set<string>();
  /** Whether created files and directories need a chmod (a mode the umask may narrow). */
  private readonly fileChmod: boolean;
  private readonly dirChmod: boolean;

  constructor(
    private readonly dir: string,
    private readonly fileMode: number,
    private readonly dirMode: number,
  ) {
    this.description = `directory ${dir}`;
    this.segDir = `${dir}/${SEGMENTS}`;
    this.fileChmod = CHMOD && fileMode !== 0o600;
    this.dirChmod = CHMOD && dirMode !== 0o700;
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
    await this.makeDir(this.dir);
    await this.atomicWrite(this.dir, MANIFEST, bytes);
  }

  /** Lists the segment files; writes nothing (temporary files are skipped, not removed). */
  async listSegments(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.segDir)) {
        if (e.isFile && !TMP_RE.test(e.name)) names.push(e.name);
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
      await this.makeDir(this.dir);
      if (await this.makeDir(this.segDir)) await syncDir(this.dir);
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
   * Takes an exclusive advisory lock (flock) on `<dir>/weir-store.lock` (creating the
   * directory if needed), held until `close()`; the kernel drops it when the process dies,
   * even by SIGKILL, so a restart is never blocked by a crashed run.
   */
  async claim(): Promise<boolean> {
    if (this.lock !== undefined) return true;
    await this.makeDir(this.dir);
    const path = `${this.dir}/${LOCK}`;
    const f = await Deno.open(path, {
      read: true,
      write: true,
      create: true,
      mode: this.fileMode,
    });
    let locked = false;
    try {
      locked = await f.tryLock(true);
      if (locked && this.fileChmod) await Deno.chmod(path, this.fileMode);
    } finally {
      if (!locked) f.close();
    }
    if (locked) this.lock = f;
    return locked;
  }

  /**
   * Removes weir's temporary files that interrupted writes left in the directory and in
   * `segments/` (never one of this backend's writes in progress, nor any other file).
   */
  async collectGarbage(): Promise<void> {
    for (const dir of [this.dir, this.segDir]) {
      let removed = 0;
      try {
        for await (const e of Deno.readDir(dir)) {
          const path = `${dir}/${e.name}`;
          if (!e.isFile || !TMP_RE.test(e.name) || this.writing.has(path)) continue;
          try {
            await Deno.remove(path);
            removed++;
          } catch (err) {
            if (!(err instanceof Deno.errors.NotFound)) throw err;
          }
        }
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        throw err;
      }
      if (removed > 0) await syncDir(dir);
    }
  }

  close(): void {
    const lock = this.lock;
    this.lock = undefined;
    lock?.close();
  }

  /** Creates `path` (and its parents) with the directory mode; true when it did not exist. */
  private async makeDir(path: string): Promise<boolean> {
    try {
      await Deno.mkdir(path, { mode: this.dirMode });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) return false;
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      await Deno.mkdir(path, { recursive: true, mode: this.dirMode });
    }
    if (this.dirChmod) await Deno.chmod(path, this.dirMode);
    return true;
  }

  /** Writes `dir/name` via a temporary file, fsync, rename and directory fsync. */
  private async atomicWrite(dir: string, name: string, bytes: Uint8Array): Promise<void> {
    const tmp = `${dir}/.${name}${TMP_MARK}${randomHex()}`;
    this.writing.add(tmp);
    try {
      const f = await Deno.open(tmp, {
        write: true,
        create: true,
        truncate: true,
        mode: this.fileMode,
      });
      try {
        if (this.fileChmod) await Deno.chmod(tmp, this.fileMode);
        let off = 0;
        while (off < bytes.length) off += await f.write(bytes.subarray(off));
        await f.sync();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, `${dir}/${name}`);
    } finally {
      this.writing.delete(tmp);
    }
    await syncDir(dir);
  }
}

/** 8 random hex digits. */
function randomHex(): string {
  return crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16).padStart(8, "0");
}

async function syncDir(dir: string): Promise<void> {
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}
