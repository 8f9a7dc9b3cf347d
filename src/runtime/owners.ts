/**
 * Which worker owns a key or a fixed partition (shared by the exchange, the sources and
 * sinks, and recovery's rescaling; kept apart from `exchange.ts` so a single-worker bundle
 * holds no exchange code).
 *
 * @module
 */

/**
 * A stable 32-bit hash of a key (FNV-1a over its UTF-16 code units): the same in every
 * worker, process and run, so the exchange and recovery's rescaling agree on a key's owner.
 */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The worker that owns `key` among `count` workers. */
export function keyOwner(key: string, count: number): number {
  return keyHash(key) % count;
}

/**
 * The worker that reads or writes the `index`-th of a fixed source's or sink's sorted
 * partitions: round-robin, which is Bytewax's assignment (fewest assignments first, ties to
 * the lowest worker) when every worker lists every partition.
 */
export function partitionOwner(index: number, count: number): number {
  return index % count;
}
