/**
 * A deterministic pseudo-random generator (mulberry32) for the tests that draw random inputs,
 * kill points or cases from a seed (windowing, recovery, the crash harness, Kafka).
 *
 * @module
 */

/** A generator of floats in [0, 1), the same sequence for the same `seed`. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
