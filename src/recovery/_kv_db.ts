/**
 * Opening the Deno KV backend's database (creating its file with the asked modes), and the
 * helpers around Deno KV: retrying while SQLite is busy, and printing keys.
 *
 * @module
 */

/** The database of a Deno KV store, opened on first use and closed by {@linkcode close}. */
export class KvDatabase {
  private opening: Promise<Deno.Kv> | undefined;

  /**
   * @param path A path, a URL, or `undefined` for the default database (ignored with `ownKv`).
   * @param ownKv An open database the caller owns and closes, if given.
   * @param fileMode The mode of a database file this creates.
   * @param dirMode The mode of the directories this creates.
   * @param description The store, for error messages.
   */
  constructor(
    private readonly path: string | undefined,
    private readonly ownKv: Deno.Kv | undefined,
    private readonly fileMode: number,
    private readonly dirMode: number,
    private readonly description: string,
  ) {}

  /** A path of a file on disk (not `:memory:`, not a URL, not the default database). */
  private get filePath(): string | undefined {
    const p = this.path;
    if (p === undefined || p === "" || p === ":memory:" || /^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
      return undefined;
    }
    return p;
  }

  /**
   * The database, opened on first use. With `create` false, a database file that does not
   * exist is not created: resolves `undefined` instead.
   */
  async get(create: boolean): Promise<Deno.Kv | undefined> {
    if (this.ownKv !== undefined) return this.ownKv;
    if (this.opening === undefined) {
      const file = this.filePath;
      if (file !== undefined && !(await exists(file))) {
        if (!create) return undefined;
        this.checkUnstable();
        await this.createFile(file);
      }
      if (this.opening === undefined) {
        this.checkUnstable();
        const path = this.path;
        const opening = whenNotBusy(() => Deno.openKv(path));
        this.opening = opening;
        opening.catch(() => {
          if (this.opening === opening) this.opening = undefined;
        });
      }
    }
    return await this.opening;
  }

  private checkUnstable(): void {
    if (typeof Deno.openKv !== "function") {
      throw new Error(
        `Cannot open ${this.description}: Deno KV is unstable; run with --unstable-kv`,
      );
    }
  }

  /**
   * Creates the database file empty (SQLite takes an empty file as a new database) with
   * `fileMode`, and its missing parent directories with `dirMode`, so that the store is
   * never readable by others, not even for an instant. SQLite gives its `-wal` and `-shm`
   * files the database file's mode.
   */
  private async createFile(file: string): Promise<void> {
    const created: string[] = [];
    for (let dir = parentOf(file); dir !== undefined; dir = parentOf(dir)) {
      if (await exists(dir)) break;
      created.push(dir);
    }
    if (created.length > 0) {
      await Deno.mkdir(created[0]!, { recursive: true, mode: this.dirMode });
    }
    let f: Deno.FsFile;
    try {
      f = await Deno.open(file, { write: true, createNew: true, mode: this.fileMode });
    } catch (err) {
      // Created meanwhile (another backend, another process): leave it as it is.
      if (err instanceof Deno.errors.AlreadyExists) return;
      throw err;
    }
    f.close();
    if (Deno.build.os !== "windows") {
      // The modes above were narrowed by the umask; widen them to exactly what was asked.
      await Deno.chmod(file, this.fileMode);
      for (const dir of created) await Deno.chmod(dir, this.dirMode);
    }
  }

  async forWrite(): Promise<Deno.Kv> {
    return (await this.get(true))!;
  }

  /** Closes the database if this opened it (not an `ownKv`). */
  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (opening === undefined) return;
    let kvOwn: Deno.Kv;
    try {
      kvOwn = await opening;
    } catch {
      return;
    }
    kvOwn.close();
  }
}

export function checkMode(name: string, mode: number | undefined, fallback: number): number {
  if (mode === undefined) return fallback;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new RangeError(`${name} must be permission bits from 0 to 0o777, got ${mode}`);
  }
  return mode;
}

/** The directory of `path`, or `undefined` for a bare name or a root. */
function parentOf(path: string): string | undefined {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return slash > 0 ? path.slice(0, slash) : undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** A key as JSON where possible (`["weir"]`), with bigints and bytes spelled out. */
export function formatKey(key: Deno.KvKey): string {
  const parts = key.map((p) =>
    typeof p === "bigint"
      ? `${p}n`
      : p instanceof Uint8Array
      ? `bytes(${[...p].map((b) => b.toString(16).padStart(2, "0")).join("")})`
      : JSON.stringify(p)
  );
  return `[${parts.join(",")}]`;
}

/** How long a commit or an open waits, in all, for another connection's lock on the database. */
const BUSY_BUDGET_MS = 10_000;

/**
 * Runs `fn` again while SQLite reports the database locked by another connection (SQLITE_BUSY:
 * another process opening the database, e.g. `weir recovery inspect`, or committing), backing
 * off from 2 ms to 100 ms, for at most {@linkcode BUSY_BUDGET_MS}. A locked commit wrote
 * nothing, so trying it again is safe; its checks are evaluated again.
 */
export async function whenNotBusy<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + BUSY_BUDGET_MS;
  for (let wait = 2;; wait = Math.min(100, wait * 2)) {
    try {
      return await fn();
    } catch (err) {
      if (!isBusy(err) || performance.now() + wait > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function isBusy(err: unknown): boolean {
  return err instanceof Error && /database (table )?is locked|database is busy/.test(err.message);
}
