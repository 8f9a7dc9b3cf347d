/**
 * The browser tests' harness: finds Chromium, bundles a page's script, serves it on
 * 127.0.0.1, and runs a headless Chromium we start ourselves (so we have its process and can
 * SIGKILL it), driven over the DevTools protocol (`_cdp.ts`), with a profile directory that
 * outlives the browser (IndexedDB survives a relaunch).
 *
 * Why not playwright-core: under Deno it needs `--allow-all` (it reads
 * /proc/sys/fs/binfmt_misc/WSLInterop and the home directory when imported), which the test
 * suite's permissions rightly do not grant; the protocol calls these tests need are few.
 *
 * @module
 */
import { Cdp, Page } from "./_cdp.ts";
import { bundle, ROOT } from "../../scripts/bundle.ts";
import { serveStatic } from "../../scripts/_static.ts";

/**
 * Where Chromium may be: `$WEIR_CHROMIUM` when set (a path that is not a file skips the
 * tests), else the Debian and other usual places.
 */
const CANDIDATES = [
  "/usr/lib/chromium/chromium", // Debian's binary (/usr/bin/chromium is a shell wrapper)
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

function findChromium(): string | undefined {
  const fromEnv = Deno.env.get("WEIR_CHROMIUM");
  for (const c of fromEnv ? [fromEnv] : CANDIDATES) {
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** The Chromium binary, or `undefined` (the browser tests are then skipped). */
export const CHROMIUM: string | undefined = findChromium();

/** The one line printed when the browser tests are skipped. */
export const SKIP_MESSAGE =
  "browser tests skipped: no Chromium found (apt-get install chromium, or set WEIR_CHROMIUM)";

/**
 * Registers `fn` as a test, or, without Chromium, one ignored test whose name says how to
 * install it (the one line `deno test` prints for all of them).
 */
export function browserTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  if (CHROMIUM === undefined) {
    if (!skipRegistered) {
      skipRegistered = true;
      Deno.test({ name: SKIP_MESSAGE, ignore: true, fn: () => {} });
    }
    return;
  }
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}
let skipRegistered = false;

/** A served directory: `dir` holds the files; `origin` is `http://127.0.0.1:<port>`. */
export interface Site {
  readonly dir: string;
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Bundles each `[entry, out]` (entry relative to the repository, out relative to the site)
 * and writes each `[path, text]` of `files`, into a temporary directory served on 127.0.0.1.
 */
export async function makeSite(
  bundles: ReadonlyArray<readonly [string, string, { external?: string[] }?]>,
  files: Readonly<Record<string, string>> = {},
): Promise<Site> {
  const dir = await Deno.makeTempDir({ prefix: "weir_browser_site_" });
  try {
    // deno.json's imports, but `@std/assert` is the browser stand-in (tests/_assert.ts needs
    // node:assert).
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    const imports: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.imports as Record<string, string>)) {
      imports[k] = v.startsWith("./") ? new URL(v, `file://${ROOT}`).href : v;
    }
    imports["@std/assert"] = new URL("pages/_assert_browser.ts", import.meta.url).href;
    const importMap = `${dir}/import_map.json`;
    await Deno.writeTextFile(importMap, JSON.stringify({ imports }));
    for (const [entry, out, opts] of bundles) {
      await bundle(entry, `${dir}/${out}`, { ...opts, importMap });
    }
    for (const [path, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${path}`, text);
    }
  } catch (err) {
    await Deno.remove(dir, { recursive: true });
    throw err;
  }
  const server = await serveStatic(dir, 0);
  return {
    dir,
    origin: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A headless Chromium process and a DevTools connection to it. */
export class Chromium {
  private constructor(
    readonly process: Deno.ChildProcess,
    readonly cdp: Cdp,
    private readonly stderr: Promise<void>,
  ) {}

  /** Starts Chromium on the profile `profileDir` (created if needed) and connects to it. */
  static async launch(profileDir: string): Promise<Chromium> {
    const args = [
      "--headless",
      "--remote-debugging-port=0",
      "--remote-debugging-address=127.0.0.1",
      `--user-data-dir=${profileDir}`,
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--window-size=1000,700",
    ];
    // Chromium's sandbox refuses to run as root (CI containers); the pages are our own.
    args.push("--no-sandbox");
    args.push("about:blank");
    const process = new Deno.Command(CHROMIUM!, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // The DevTools endpoint is printed on stderr; the rest of stderr is drained and dropped.
    let endpoint!: (url: string) => void;
    const url = new Promise<string>((resolve) => endpoint = resolve);
    let seen = "";
    const stderr = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of process.stderr) {
        if (seen.length < 20_000) {
          seen += dec.decode(chunk, { stream: true });
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
          if (m) endpoint(m[1]!);
        }
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Chromium did not start in 30 s:\n${seen}`)),
        30_000,
      );
    });
    const exited = process.status.then((s): never => {
      throw new Error(`Chromium exited (code ${s.code}) before listening:\n${seen}`);
    });
    exited.catch(() => {});
    let cdp: Cdp;
    try {
      cdp = await Cdp.connect(await Promise.race([url, timeout, exited]));
    } catch (err) {
      try {
        process.kill("SIGKILL");
      } catch { /* gone */ }
      await process.status;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return new Chromium(process, cdp, stderr);
  }

  /** Opens a new tab at `url`, waiting for its load event. */
  async open(url: string): Promise<Page> {
    return await Page.open(this.cdp, url);
  }

  /** Kills the browser process with SIGKILL (a crash: nothing is flushed or closed). */
  async kill(): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.process.status;
    this.cdp.close();
    await this.stderr.catch(() => {});
  }

  /** Closes the browser cleanly (it flushes its profile), killing it if it hangs. */
  async close(): Promise<void> {
    this.cdp.send("Browser.close").catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      this.process.status.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    clearTimeout(timer);
    if (!done) await this.kill();
    this.cdp.close();
    await this.stderr.catch(() => {});
  }
}

export { Page, ROOT };
