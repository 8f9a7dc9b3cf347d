/**
 * Small helpers shared by the runtime.
 *
 * @module
 */

/** True for Promises and other thenables. */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<T>).then === "function";
}

/**
 * Resolves after one turn of the event loop, letting timers and I/O callbacks run. Uses a
 * MessageChannel (≈20 µs in Deno and browsers) rather than `setTimeout(0)`, which is clamped
 * to ≥ 1 ms.
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
