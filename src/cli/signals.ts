/**
 * {@linkcode stopOnSignals}: SIGINT and SIGTERM as a graceful stop of a run. Deno only.
 *
 * @module
 */
import type { CliOutput } from "./args.ts";

/** A signal that stops a run: see {@linkcode stopOnSignals}. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** The exit code after each stop signal: 128 + the signal's number, as shells report it. */
const STOP_EXIT_CODES: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/** A run's stop request from SIGINT and SIGTERM; made by {@linkcode stopOnSignals}. */
export interface SignalStop extends Disposable {
  /** Aborted by the first SIGINT or SIGTERM: pass it to `run` as its `signal`. */
  readonly signal: AbortSignal;
  /** The signal that asked for the stop, `undefined` while none came. */
  readonly received: StopSignal | undefined;
  /** 130 after SIGINT, 143 after SIGTERM, `undefined` while no signal came. */
  readonly exitCode: number | undefined;
  /** Removes the signal listeners (a `using` declaration calls it). */
  [Symbol.dispose](): void;
}

/**
 * Turns SIGINT and SIGTERM into a graceful stop of a run, as the `weir` command does.
 *
 * The first signal aborts {@linkcode SignalStop.signal} (the run reads no more input,
 * finishes and commits its epoch, and resolves `{ status: "stopped" }`) and prints one line,
 * `weir: stopping after the current epoch (SIGINT); press Ctrl-C again to exit at once`. A
 * second signal prints `weir: exiting at once (SIGINT again) without finishing the current
 * epoch` and exits the process at once with 130 (SIGINT) or 143 (SIGTERM): the epoch in
 * progress is not committed, and since commits are atomic the store stays resumable from the
 * last committed epoch. Until the returned object is disposed, the signals no longer end the
 * process by default; dispose of it when the run ends (`using`, or call
 * `[Symbol.dispose]()`) so that no listener is left behind. On Windows only SIGINT (Ctrl-C)
 * is handled, since Deno can't listen for SIGTERM there.
 *
 * @param out Where the lines are printed (its `error`; default `console`).
 * @returns The stop request; its `exitCode` is the code to exit with after a stopped run.
 *
 * @example Running a flow that SIGINT or SIGTERM can stop
 * ```ts
 * import { Dataflow, run } from "@weir/weir";
 * import { stopOnSignals } from "@weir/weir/cli";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("signals_demo");
 * flow.input("inp", new TestingSource([1, 2])).output("out", new TestingSink(out));
 * using stop = stopOnSignals();
 * const summary = await run(flow, { signal: stop.signal });
 * // No signal came: the run ended at EOF. After a stop, exit with stop.exitCode.
 * assertEquals([summary.status, stop.exitCode], ["eof", undefined]);
 * assertEquals(out, [1, 2]);
 * ```
 */
export function stopOnSignals(out: CliOutput = console): SignalStop {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const signals: StopSignal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((sig) => {
    const listener = () => {
      if (received !== undefined) {
        out.error(`weir: exiting at once (${sig} again) without finishing the current epoch`);
        Deno.exit(STOP_EXIT_CODES[sig]);
      }
      received = sig;
      const again = sig === "SIGINT" ? "press Ctrl-C again" : "send SIGTERM or SIGINT again";
      out.error(`weir: stopping after the current epoch (${sig}); ${again} to exit at once`);
      controller.abort();
    };
    Deno.addSignalListener(sig, listener);
    return [sig, listener] as const;
  });
  let disposed = false;
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received === undefined ? undefined : STOP_EXIT_CODES[received];
    },
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      for (const [sig, listener] of listeners) Deno.removeSignalListener(sig, listener);
    },
  };
}
