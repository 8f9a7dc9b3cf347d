import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { initStore, run } from "../../mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { gatedFlow } from "./_gated_flow.ts";

/** A parsed Prometheus text exposition: samples by `name{labels}`, and the declared types. */
interface Scrape {
  readonly samples: Map<string, number>;
  readonly types: Map<string, string>;
}

/** Parses the text format strictly: every line is HELP, TYPE or a sample of a declared metric. */
function parsePrometheus(text: string): Scrape {
  assert(text.endsWith("\n"), "the exposition ends with a newline");
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      assertMatch(line, /^# HELP [a-z_]+ \S.*$/);
      continue;
    }
    const type = /^# TYPE ([a-z_]+) (counter|gauge)$/.exec(line);
    if (type !== null) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = /^([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\} (-?[0-9.e+-]+)$/.exec(line);
    assert(m !== null, `not a Prometheus sample line: ${line}`);
    assert(types.has(m[1]!), `sample of an undeclared metric: ${line}`);
    if (types.get(m[1]!) === "counter") assert(m[1]!.endsWith("_total"), line);
    const value = Number(m[3]);
    assert(Number.isFinite(value), line);
    samples.set(`${m[1]}{${m[2]}}`, value);
  }
  return { samples, types };
}

const L = (step?: string) => `flow="m",worker="0"${step === undefined ? "" : `,step="m.${step}"`}`;

Deno.test("metrics: /metrics scraped during a run parses and its counters match the items that went through", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await initStore(fsBackend(dir), Date.now());
    const { flow, out, open } = gatedFlow(1000);
    let base = "";
    const listening = Promise.withResolvers<void>();
    const running = run(flow, {
      epochInterval: 0,
      recovery: { backend: fsBackend(dir) },
      metrics: {
        port: 0,
        onListen: ({ hostname, port }) => {
          base = `http://${hostname}:${port}`;
          assertEquals(hostname, "127.0.0.1");
          listening.resolve();
        },
      },
    });
    await listening.promise;
    // Scrape until the 1000 items read before the gate have reached the sink.
    let scrape: Scrape | undefined;
    let res: Response | undefined;
    for (let i = 0; i < 200; i++) {
      res = await fetch(`${base}/metrics`);
      const text = await res.text();
      if (res.status === 200) {
        scrape = parsePrometheus(text);
        if (
          scrape.samples.get(`weir_step_items_in_total{${L("out")}}`) === 1000 &&
          (scrape.samples.get(`weir_commits_total{${L()}}`) ?? 0) >= 1
        ) break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assertEquals(res!.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const s = scrape!.samples;
    assertEquals(out.length, 1000);
    assertEquals(s.get(`weir_step_items_out_total{${L("nums")}}`), 1000);
    assertEquals(s.get(`weir_step_items_in_total{${L("pipe_1")}}`), 1000);
    assertEquals(s.get(`weir_step_items_in_total{${L("sum")}}`), 1000);
    assertEquals(s.get(`weir_step_items_out_total{${L("sum")}}`), 1000);
    assertEquals(s.get(`weir_step_items_in_total{${L("out")}}`), 1000);
    assertEquals(s.get(`weir_step_keys{${L("sum")}}`), 10); // x * 2 % 20: even keys only
    // keyOn is fused after map: its input is inside the chain and is not measured.
    assertEquals(s.get(`weir_step_items_in_total{${L("key")}}`), undefined);
    assertEquals(scrape!.types.get("weir_step_items_in_total"), "counter");
    assertEquals(scrape!.types.get("weir_step_keys"), "gauge");
    assert(s.get(`weir_epoch{${L()}}`)! >= 2);
    assert(s.get(`weir_epochs_total{${L()}}`)! >= 1);
    assert(s.get(`weir_snapshot_bytes{${L()}}`)! > 0);
    assert(s.get(`weir_snapshot_bytes_total{${L()}}`)! >= s.get(`weir_snapshot_bytes{${L()}}`)!);
    assert(s.get(`weir_commit_latency_seconds{${L()}}`)! > 0);
    assert(s.get(`weir_step_busy_seconds_total{${L("nums")}}`)! > 0);
    // The other routes.
    const graph = await (await fetch(`${base}/graph`)).json();
    assertEquals([graph.version, graph.flowId, graph.steps.length], [1, "m", 5]);
    const progress = await (await fetch(`${base}/progress`)).json();
    assertEquals([progress.status, progress.inputs[0].items], ["running", 1000]);
    assertEquals((await fetch(`${base}/nope`)).status, 404);
    await (await fetch(`${base}/`)).body?.cancel();
    open();
    const summary = await running;
    assertEquals(summary.status, "eof");
    // The server stopped with the run.
    await assertRejects(() => fetch(`${base}/metrics`), TypeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("metrics: the server binds 127.0.0.1 only (127.0.0.2, also loopback, is refused)", async () => {
  const { flow, open } = gatedFlow(10);
  const port = Promise.withResolvers<number>();
  const running = run(flow, { metrics: { port: 0, onListen: (a) => port.resolve(a.port) } });
  const p = await port.promise;
  // A subprocess with full network permission tries both addresses.
  const code = `
    for (const hostname of ["127.0.0.1", "127.0.0.2"]) {
      try { (await Deno.connect({ hostname, port: ${p} })).close(); console.log(hostname, "open"); }
      catch (err) { console.log(hostname, err.name); }
    }`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).output();
  assertEquals(new TextDecoder().decode(r.stdout), "127.0.0.1 open\n127.0.0.2 ConnectionRefused\n");
  open();
  await running;
});

Deno.test("metrics: a bad port is refused before the run starts", async () => {
  const { flow } = gatedFlow(1);
  const err = await assertRejects(() => run(flow, { metrics: { port: 70000 } }), RangeError);
  assertEquals(err.message, "metrics.port must be an integer from 0 to 65535, got 70000");
});

Deno.test("metrics: a port in use fails the run naming the address, before anything is read", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { flow, out } = gatedFlow(5);
    const port = taken.addr.port;
    const err = await assertRejects(() => run(flow, { metrics: { port } }), Error);
    assertEquals(
      err.message,
      `Cannot serve metrics on 127.0.0.1:${port}: Address already in use (os error 98); pick ` +
        `another port with metrics.port (or --metrics-port), or 0 for a free one`,
    );
    assertEquals((err.cause as Error).name, "AddrInUse");
    assertEquals(out, []);
  } finally {
    taken.close();
  }
});

Deno.test("metrics: the server module is outside mod.ts's module graph (browser-safe core)", async () => {
  const root = new URL("../../", import.meta.url);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "mod.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).output();
  assertEquals(r.code, 0);
  const local = (JSON.parse(new TextDecoder().decode(r.stdout)).modules as { specifier: string }[])
    .map((m) => m.specifier)
    .filter((s) => s.startsWith(root.href))
    .map((s) => s.slice(root.href.length));
  assert(local.includes("src/observe/monitor.ts"));
  assert(local.includes("src/runtime/run.ts"));
  assertEquals(local.filter((p) => /observe\/(server|dashboard)\.ts$/.test(p)), []);
  for (const p of local) {
    const text = await Deno.readTextFile(new URL(p, root));
    assert(!text.includes("Deno.serve"), `${p} mentions Deno.serve`);
  }
});

Deno.test("weir CLI: --metrics-port and --metrics-host", async () => {
  const { parseArgs, UsageError } = await import("../../src/cli.ts");
  const o = parseArgs(["-m", "9464", "--metrics-host", "0.0.0.0", "-q", "f.ts"]);
  assertEquals([o.metricsPort, o.metricsHost, o.quiet], [9464, "0.0.0.0", true]);
  assertEquals(parseArgs(["--metrics-port=0", "f.ts"]).metricsPort, 0);
  for (
    const [argv, message] of [
      [["-m", "70000", "f.ts"], '--metrics-port needs a port from 0 to 65535, got "70000"'],
      [["-m", "x", "f.ts"], '--metrics-port needs a port from 0 to 65535, got "x"'],
      [["--metrics-host", "::1", "f.ts"], "--metrics-host needs --metrics-port"],
    ] as const
  ) {
    let got = "";
    try {
      parseArgs(argv);
    } catch (err) {
      assert(err instanceof UsageError);
      got = err.message;
    }
    assertEquals(got, message);
  }
});

Deno.test("weir CLI --metrics-port without net permission: exit 1 naming the flag to add", async () => {
  const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
  const flows = new URL("../fixtures/cli_flows.ts", import.meta.url).pathname;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", cli, "-q", "--metrics-port", "9464", flows],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 1, stderr);
  assertEquals(
    stderr.split("\n")[0],
    'weir: Cannot serve metrics on 127.0.0.1:9464: Requires net access to "127.0.0.1:9464", ' +
      "run again with the --allow-net flag; run Deno with --allow-net=127.0.0.1:9464",
  );
  assertEquals(new TextDecoder().decode(r.stdout), "");
});

Deno.test("weir CLI --metrics-port 0: prints where the metrics and the dashboard are", async () => {
  const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
  const flows = new URL("../fixtures/cli_flows.ts", import.meta.url).pathname;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-net=127.0.0.1", cli, "-q", "-m", "0", flows],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 0, stderr);
  assertMatch(
    stderr,
    /^weir: metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics, dashboard at http:\/\/127\.0\.0\.1:\1\/\n$/,
  );
  assertEquals(new TextDecoder().decode(r.stdout), "2\n4\n6\n");
});
