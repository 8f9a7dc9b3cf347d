/**
 * The Prometheus text exposition (format 0.0.4) of a {@linkcode RunProgress}: what `/metrics`
 * serves. Written by hand rather than with `prom-client` (see ARCHITECTURE.md): the format is
 * a few lines per metric, and weir already holds every value in a snapshot. Browser-safe.
 *
 * @module
 */
import type { RunProgress } from "./monitor.ts";

/** Counts a snapshot does not hold: accumulated from the `"epoch"` and `"commit"` events. */
export interface RunTotals {
  /** Epochs ended. */
  epochs: number;
  /** Sum of epoch durations, milliseconds. */
  epochMs: number;
  /** Commits done. */
  commits: number;
  /** Bytes of every committed segment. */
  snapshotBytes: number;
  /** Sum of commit latencies, milliseconds. */
  commitMs: number;
}

/** Fresh, zero totals. */
export function emptyTotals(): RunTotals {
  return { epochs: 0, epochMs: 0, commits: 0, snapshotBytes: 0, commitMs: 0 };
}

/** Adds an `"epoch"` or `"commit"` snapshot to the totals. */
export function addToTotals(totals: RunTotals, p: RunProgress): void {
  if (p.event === "epoch" && p.lastEpoch !== undefined) {
    totals.epochs++;
    totals.epochMs += p.lastEpoch.durationMs;
  } else if (p.event === "commit" && p.lastCommit !== undefined) {
    totals.commits++;
    totals.snapshotBytes += p.lastCommit.bytes;
    totals.commitMs += p.lastCommit.latencyMs;
  }
}

function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * Renders the metrics of one worker. Every sample carries `flow` and `worker` labels;
 * per-step samples a `step` label. Counters end in `_total`; durations are in seconds.
 *
 * @param p The current snapshot.
 * @param totals Accumulated epoch and commit counts.
 * @returns The exposition text, ending with a newline.
 */
export function prometheusText(p: RunProgress, totals: RunTotals): string {
  const base = `flow="${label(p.flowId)}",worker="${p.worker}"`;
  const out: string[] = [];
  const metric = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: Array<[string | undefined, number]>,
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [step, v] of samples) {
      const labels = step === undefined ? base : `${base},step="${label(step)}"`;
      out.push(`${name}{${labels}} ${Number.isFinite(v) ? v : 0}`);
    }
  };
  const per = (f: (s: RunProgress["steps"][number]) => number | undefined) =>
    p.steps.flatMap((s): Array<[string, number]> => {
      const v = f(s);
      return v === undefined ? [] : [[s.stepId, v]];
    });
  metric("weir_step_items_in_total", "counter", "Items a step read.", per((s) => s.itemsIn));
  metric("weir_step_items_out_total", "counter", "Items a step wrote.", per((s) => s.itemsOut));
  metric(
    "weir_step_busy_seconds_total",
    "counter",
    "Wall-clock time a step was busy, measured per activation.",
    per((s) => s.busyMs === undefined ? undefined : s.busyMs / 1000),
  );
  metric("weir_step_keys", "gauge", "Keys holding state in a stateful step.", per((s) => s.keys));
  metric("weir_epoch", "gauge", "The current epoch.", [[undefined, p.epoch]]);
  metric("weir_epochs_total", "counter", "Epochs ended.", [[undefined, totals.epochs]]);
  metric(
    "weir_epoch_duration_seconds",
    "gauge",
    "Duration of the last epoch that ended.",
    [[undefined, (p.lastEpoch?.durationMs ?? 0) / 1000]],
  );
  metric(
    "weir_epoch_duration_seconds_total",
    "counter",
    "Sum of the durations of the epochs that ended.",
    [[undefined, totals.epochMs / 1000]],
  );
  metric("weir_commits_total", "counter", "Epochs committed to the recovery store.", [
    [undefined, totals.commits],
  ]);
  metric("weir_snapshot_bytes", "gauge", "Size of the last committed segment.", [
    [undefined, p.lastCommit?.bytes ?? 0],
  ]);
  metric("weir_snapshot_bytes_total", "counter", "Bytes of every committed segment.", [
    [undefined, totals.snapshotBytes],
  ]);
  metric("weir_commit_latency_seconds", "gauge", "Latency of the last commit.", [
    [undefined, (p.lastCommit?.latencyMs ?? 0) / 1000],
  ]);
  metric(
    "weir_commit_latency_seconds_total",
    "counter",
    "Sum of commit latencies.",
    [[undefined, totals.commitMs / 1000]],
  );
  const known = p.inputs.filter((i) => i.position !== undefined);
  metric(
    "weir_source_position",
    "gauge",
    "Units a source has read (bytes for files), summed over partitions.",
    known.map((i) => [i.stepId, i.position!]),
  );
  const ended = known.filter((i) => i.end !== undefined);
  metric(
    "weir_source_end",
    "gauge",
    "Units in a source, where known (a file's size).",
    ended.map((i) => [i.stepId, i.end!]),
  );
  metric(
    "weir_source_lag",
    "gauge",
    "Units a source has still to read (end minus position), where known.",
    ended.map((i) => [i.stepId, Math.max(0, i.end! - i.position!)]),
  );
  metric("weir_elapsed_seconds", "gauge", "Time since the run started.", [
    [undefined, p.elapsedMs / 1000],
  ]);
  return out.join("\n") + "\n";
}
