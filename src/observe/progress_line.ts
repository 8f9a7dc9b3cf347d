/**
 * One line of text describing a {@linkcode RunProgress}: what the CLI prints (redrawn on a
 * terminal, as plain lines otherwise). Browser-safe.
 *
 * @module
 */
import type { RunProgress } from "./monitor.ts";

/** `1234` → `"1234"`, `12345` → `"12.3k"`, `1234567` → `"1.2M"`. */
export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Bytes as `B`, `KiB`, `MiB` or `GiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/** Milliseconds as `850ms`, `4s`, `3m05s` or `2h07m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

function bar(percent: number, width = 20): string {
  const full = Math.round((percent / 100) * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

/** The last component of a step id (the flow id is on every line already). */
function short(stepId: string, flowId: string): string {
  return stepId.startsWith(`${flowId}.`) ? stepId.slice(flowId.length + 1) : stepId;
}

/**
 * Describes a snapshot in one line: the epoch; per input its items, rate and, for a known
 * size, a bar with percent, bytes and ETA; per output its rate; keys per stateful step; the
 * last commit.
 *
 * @param p The snapshot.
 * @returns The line, without a newline.
 */
export function formatProgress(p: RunProgress): string {
  const parts = [`epoch ${p.epoch}`];
  for (const i of p.inputs) {
    let s = `${short(i.stepId, p.flowId)} ${formatCount(i.items)} items ${formatCount(i.rate)}/s`;
    if (i.percent !== undefined && i.end !== undefined) {
      s += ` ${bar(i.percent)} ${Math.floor(i.percent)}% ${formatBytes(i.position!)}/` +
        formatBytes(i.end);
      if (i.etaMs !== undefined && i.percent < 100) s += ` ETA ${formatDuration(i.etaMs)}`;
    }
    parts.push(s);
  }
  for (const o of p.outputs) {
    parts.push(`${short(o.stepId, p.flowId)} ${formatCount(o.items)} out ${formatCount(o.rate)}/s`);
  }
  for (const s of p.steps) {
    if (s.keys !== undefined) {
      parts.push(`${short(s.stepId, p.flowId)} ${formatCount(s.keys)} keys`);
    }
  }
  if (p.lastCommit !== undefined) {
    const c = p.lastCommit;
    parts.push(
      `committed epoch ${c.epoch} ${formatBytes(c.bytes)} in ${formatDuration(c.latencyMs)} ` +
        `${formatDuration(Math.max(0, p.at - c.at))} ago`,
    );
  }
  return parts.join(" · ");
}
