/**
 * Small helpers shared by the runtime (`isPromiseLike`, which lower layers use too, is in
 * `src/promise_like.ts`).
 *
 * @module
 */

/**
 * Resolves after one turn of the event loop. Uses a MessageChannel (≈20 µs in Deno and
 * browsers) rather than `setTimeout(0)`, which is clamped to ≥ 1 ms. Deno (once an npm
 * package is loaded) runs up to 64 such tasks before it polls timers and I/O: to let those
 * run, use {@linkcode timerTask}.
 */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

/**
 * Resolves from a timer callback: slower than {@linkcode macrotask} (≥ 1 ms), but the host
 * polls its timers and I/O before running it, which Deno defers while MessageChannel tasks
 * keep coming.
 */
export function timerTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
