import { assert, assertEquals } from "@std/assert";
import { initStore } from "../../mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";

interface OtlpSpan {
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: {
    key: string;
    value: { stringValue?: string; intValue?: string; doubleValue?: number };
  }[];
}

/** The spans of OTLP/HTTP JSON trace exports. */
function spansOf(bodies: unknown[]): OtlpSpan[] {
  // deno-lint-ignore no-explicit-any
  return bodies.flatMap((b: any) =>
    // deno-lint-ignore no-explicit-any
    b.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans))
  );
}

function attr(span: OtlpSpan, key: string): string | undefined {
  const v = span.attributes.find((a) => a.key === key)?.value;
  const n = v?.intValue ?? v?.doubleValue;
  return v?.stringValue ?? (n === undefined ? undefined : String(n));
}

Deno.test("tracing: with OTEL_DENO=true the CLI's epoch and commit spans reach an OTLP/HTTP receiver", async () => {
  const dir = await Deno.makeTempDir();
  const bodies: unknown[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname === "/v1/traces") bodies.push(await req.json());
    else await req.body?.cancel();
    return Response.json({});
  });
  try {
    const store = `${dir}/store`;
    await Deno.mkdir(store);
    await initStore(fsBackend(store), Date.now());
    const flowFile = `${dir}/flow.ts`;
    const fixture = new URL("../fixtures/observe_flows.ts", import.meta.url).href;
    await Deno.writeTextFile(`${dir}/in.txt`, "a b\nb c\nc d\n".repeat(50));
    await Deno.writeTextFile(
      flowFile,
      `import { wordsOf } from ${JSON.stringify(fixture)};\n` +
        `export const flow = wordsOf(${JSON.stringify(`${dir}/in.txt`)}, ${
          JSON.stringify(`${dir}/out.txt`)
        }, 50);\n`,
    );
    const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "-q", "-s", "0", "-r", store, flowFile],
      env: {
        NO_COLOR: "1",
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
        OTEL_SERVICE_NAME: "weir-test",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
    const spans = spansOf(bodies);
    const epochs = spans.filter((s) => s.name === "weir.epoch");
    const commits = spans.filter((s) => s.name === "weir.commit");
    // 150 lines in batches of 50 with an epoch per activation: several epochs, each committed.
    assert(epochs.length >= 3, `${epochs.length} epoch spans`);
    assertEquals(commits.length, epochs.length);
    assertEquals(epochs.map((s) => attr(s, "weir.epoch")), epochs.map((_, i) => String(i + 1)));
    for (const s of [...epochs, ...commits]) {
      assertEquals(attr(s, "weir.flow"), "words");
      assert(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
    }
    assert(Number(attr(commits[0]!, "weir.snapshot_bytes")) > 0);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tracing: without OTEL_DENO nothing is sent", async () => {
  let posts = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    posts++;
    await req.body?.cancel();
    return Response.json({});
  });
  try {
    const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
    const flows = new URL("../fixtures/cli_flows.ts", import.meta.url).pathname;
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "-q", flows],
      env: {
        NO_COLOR: "1",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(r.code, 0);
    assertEquals(posts, 0);
  } finally {
    await server.shutdown();
  }
});
