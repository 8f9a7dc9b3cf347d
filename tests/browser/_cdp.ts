/**
 * A small Chrome DevTools Protocol client: one WebSocket to the browser, sessions attached to
 * tabs ("flatten" mode), and the few page operations the browser tests use.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Json = any;

interface Pending {
  readonly resolve: (v: Json) => void;
  readonly reject: (e: Error) => void;
  readonly method: string;
}

/** A connection to the browser's DevTools endpoint. */
export class Cdp {
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(method: string, params: Json, sessionId?: string) => void>();
  #closed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string);
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        if (p === undefined) return;
        this.#pending.delete(msg.id);
        if (msg.error) {
          p.reject(new Error(`${p.method}: ${msg.error.message} ${msg.error.data ?? ""}`));
        } else p.resolve(msg.result);
      } else {
        for (const l of this.#listeners) l(msg.method, msg.params, msg.sessionId);
      }
    };
    ws.onclose = () => this.#fail("the browser closed the DevTools connection");
  }

  /** Connects to `url` (`ws://127.0.0.1:<port>/devtools/browser/<id>`). */
  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`Cannot connect to Chromium's DevTools at ${url}`));
    });
  }

  #fail(why: string): void {
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(new Error(`${p.method}: ${why}`));
    this.#pending.clear();
  }

  /** Sends a command (to a tab's session when `sessionId` is given). */
  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    if (this.#closed) return Promise.reject(new Error(`${method}: the connection is closed`));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  /** Calls `fn` on every event; returns a function removing it. */
  on(fn: (method: string, params: Json, sessionId?: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  close(): void {
    if (!this.#closed) this.#fail("closed");
    try {
      this.ws.close();
    } catch {
      // closed already
    }
  }
}

/** A tab. */
export class Page {
  /** Uncaught exceptions and console errors of the page, in order. */
  readonly errors: string[] = [];
  /** Console messages of the page, in order. */
  readonly console: string[] = [];

  private constructor(
    readonly cdp: Cdp,
    readonly targetId: string,
    readonly sessionId: string,
  ) {
    cdp.on((method, params, sessionId) => {
      if (sessionId !== this.sessionId) return;
      if (method === "Runtime.exceptionThrown") {
        const d = params.exceptionDetails;
        this.errors.push(d.exception?.description ?? d.text);
      } else if (method === "Runtime.consoleAPICalled") {
        const text = params.args.map((a: Json) => a.value ?? a.description).join(" ");
        this.console.push(`${params.type}: ${text}`);
        if (params.type === "error") this.errors.push(text);
      }
    });
  }

  /** Opens a tab at `url` and waits for its load event. */
  static async open(cdp: Cdp, url: string): Promise<Page> {
    const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(cdp, targetId, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.goto(url);
    return page;
  }

  send(method: string, params: Json = {}): Promise<Json> {
    return this.cdp.send(method, params, this.sessionId);
  }

  #loaded(): Promise<void> {
    return new Promise((resolve) => {
      const off = this.cdp.on((method, _params, sessionId) => {
        if (sessionId === this.sessionId && method === "Page.loadEventFired") {
          off();
          resolve();
        }
      });
    });
  }

  /** Navigates to `url` and waits for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = this.#loaded();
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new Error(`Cannot load ${url}: ${r.errorText}`);
    await loaded;
  }

  /** Reloads the tab and waits for the load event. */
  async reload(): Promise<void> {
    const loaded = this.#loaded();
    await this.send("Page.reload");
    await loaded;
  }

  /** Evaluates `expression` in the page (awaiting a Promise) and returns its JSON value. */
  async evaluate<T = Json>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(
        `${expression} threw in the page: ${d.exception?.description ?? d.text}` +
          (this.errors.length ? `\npage errors: ${this.errors.join("\n")}` : ""),
      );
    }
    return r.result.value as T;
  }

  /** Polls `expression` every 50 ms until it is truthy; returns its value. */
  async waitFor<T = Json>(expression: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate<T>(expression);
      if (v) return v;
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${expression} in the page` +
            (this.errors.length ? `; page errors: ${this.errors.join("\n")}` : ""),
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A PNG screenshot of the viewport. */
  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  }

  /** Closes the tab. */
  async close(): Promise<void> {
    await this.cdp.send("Target.closeTarget", { targetId: this.targetId });
  }
}
