/**
 * A static file server for the browser demo and the browser tests: serves files under a
 * root directory on 127.0.0.1, nothing else (no directory listings, no paths outside it).
 *
 * @module
 */

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  map: "application/json",
  css: "text/css; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
};

/**
 * Serves `root` on 127.0.0.1:`port` (0: any free port). `/` is `index` (default
 * `/index.html`). Listening when it resolves.
 */
export function serveStatic(
  root: string,
  port: number,
  index = "/index.html",
): Promise<Deno.HttpServer<Deno.NetAddr>> {
  const base = root.endsWith("/") ? root.slice(0, -1) : root;
  return Promise.resolve(
    Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: () => {},
      onError: () => new Response("Internal error", { status: 500 }),
    }, async (req) => {
      let path = decodeURIComponent(new URL(req.url).pathname);
      if (path === "/") path = index;
      if (path.split("/").includes("..")) return new Response("Not found", { status: 404 });
      try {
        const body = await Deno.readFile(base + path);
        const ext = path.slice(path.lastIndexOf(".") + 1);
        return new Response(body, {
          headers: {
            "content-type": TYPES[ext] ?? "application/octet-stream",
            "cache-control": "no-store",
          },
        });
      } catch {
        return new Response("Not found", { status: 404 });
      }
    }),
  );
}
