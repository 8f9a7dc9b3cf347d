/**
 * `weir recovery init|inspect`: creates and reports on recovery stores, and the backend a
 * store argument names. Deno only.
 *
 * @module
 */
import { fsBackend } from "../recovery/deno_fs.ts";
import { kvBackend } from "../recovery/deno_kv.ts";
import type { RecoveryBackend } from "../recovery/backend.ts";
import { initStore, inspectStore, type StoreReport } from "../recovery/admin.ts";
import type { CliOutput } from "./args.ts";
import { describe, printCause } from "./load.ts";

/**
 * The backend a store argument names: `kv:<path>` a Deno KV database (the CLI then needs
 * `--unstable-kv`), anything else a directory.
 */
export function backendFor(store: string): RecoveryBackend {
  return store.startsWith("kv:") ? kvBackend(store.slice(3)) : fsBackend(store);
}

/** `weir recovery init [--adopt] <dir>` and `weir recovery inspect <dir>`. */
export async function recoveryCommand(argv: readonly string[], out: CliOutput): Promise<number> {
  const adopt = argv[0] === "init" && argv[1] === "--adopt";
  const [verb, dir, ...rest] = adopt ? [argv[0], ...argv.slice(2)] : argv;
  if ((verb !== "init" && verb !== "inspect") || dir === undefined || rest.length > 0) {
    out.error(
      "weir: Usage: weir recovery init [--adopt] <dir> | weir recovery inspect <dir>\n" +
        "Run with --help for usage",
    );
    return 2;
  }
  try {
    if (verb === "init") {
      await initStore(backendFor(dir), Date.now(), { adopt });
      out.log(
        adopt
          ? `Initialised a recovery store in ${dir}, adopting the segments it holds`
          : `Initialised an empty recovery store in ${dir}`,
      );
    } else {
      out.log(formatReport(dir, await inspectStore(backendFor(dir))));
    }
    return 0;
  } catch (err) {
    out.error(`weir: ${describe(err)}`);
    printCause(err, out);
    return 1;
  }
}

/**
 * The text `weir recovery inspect` prints for a store.
 *
 * @example
 * ```ts
 * import { formatReport } from "@weir/weir/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const text = formatReport("store", {
 *   flowId: "orders",
 *   lastEpoch: 7,
 *   segments: [{ name: "base-0000000000000007", type: "base", epoch: 7, bytes: 2048, committedAt: 0, entries: 3 }],
 *   steps: [{ kind: "state", stepId: "orders.total", keys: 2, bytes: 40 }],
 * });
 * assertEquals(text.split("\n")[0], "Recovery store store: flow orders, last committed epoch 7");
 * ```
 */
export function formatReport(dir: string, r: StoreReport): string {
  const lines = [
    `Recovery store ${dir}: flow ${r.flowId ?? "(none yet)"}, last committed epoch ${r.lastEpoch}`,
    "",
    "Segments:",
  ];
  if (r.segments.length === 0) lines.push("  (none)");
  for (const s of r.segments) {
    const at = Number.isFinite(s.committedAt) ? new Date(s.committedAt).toISOString() : "?";
    lines.push(
      `  ${s.name}  ${s.type.padEnd(5)}  epoch ${s.epoch}  ${s.entries} entries  ` +
        `${formatBytes(s.bytes)}  committed ${at}`,
    );
  }
  lines.push("", "Steps:");
  if (r.steps.length === 0) lines.push("  (none)");
  for (const s of r.steps) {
    const what = s.kind === "state" ? "keys" : "partitions";
    lines.push(`  ${s.stepId}  ${s.kind}  ${s.keys} ${what}  ${formatBytes(s.bytes)}`);
  }
  return lines.join("\n");
}

function formatBytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 * 1024
    ? `${(n / 1024).toFixed(1)} KiB`
    : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
