/**
 * The Deno KV backend's segments as chunks: a segment's bytes are split into values below Deno
 * KV's 64 KiB limit under `[...chunkPrefix, name, gen, i]`, and a metadata record
 * `{ chunks, bytes, crc32, gen }` makes them a segment (see `deno_kv.ts`).
 *
 * @module
 */
import { crc32 } from "./bytes.ts";

/** Bytes per chunk: below Deno KV's 64 KiB value limit. */
export const CHUNK_BYTES = 60 * 1024;
/** Deno KV's largest value. */
export const MAX_VALUE_BYTES = 65536;
/** Keys per `getMany` (Deno KV reads at most 10 ranges at once). */
export const KEYS_PER_READ = 10;

/** A segment's metadata record. */
export interface SegmentMeta {
  readonly chunks: number;
  readonly bytes: number;
  readonly crc32: number;
  readonly gen: string;
}

/** True for a well-formed metadata record. */
export function isMeta(v: unknown): v is SegmentMeta {
  if (typeof v !== "object" || v === null) return false;
  const m = v as Record<string, unknown>;
  return Number.isSafeInteger(m.chunks) && (m.chunks as number) >= 0 &&
    Number.isSafeInteger(m.bytes) && (m.bytes as number) >= 0 &&
    typeof m.crc32 === "number" && typeof m.gen === "string";
}

/**
 * Reads and checks a segment's bytes: the chunks under `chunkKey` (the segment's chunk prefix
 * `[...chunkPrefix, name, gen]`), which must add up to the `bytes` and CRC-32 its record holds.
 */
export async function readChunks(
  kv: Deno.Kv,
  chunkKey: Deno.KvKey,
  name: string,
  meta: SegmentMeta,
  description: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(meta.bytes);
  let pos = 0;
  for (let i = 0; i < meta.chunks; i += KEYS_PER_READ) {
    const keys: Deno.KvKey[] = [];
    for (let j = i; j < Math.min(meta.chunks, i + KEYS_PER_READ); j++) {
      keys.push([...chunkKey, j]);
    }
    const entries = await kv.getMany<unknown[]>(keys);
    for (let j = 0; j < entries.length; j++) {
      const v = entries[j]!.value;
      if (!(v instanceof Uint8Array)) {
        throw new Error(
          `Segment ${name} in ${description} is damaged: chunk ${i + j} of ` +
            `${meta.chunks} is ${v === null ? "missing" : "not bytes"}`,
        );
      }
      if (pos + v.length > meta.bytes) {
        throw new Error(
          `Segment ${name} in ${description} is damaged: its chunks hold more than ` +
            `the ${meta.bytes} bytes its metadata records`,
        );
      }
      out.set(v, pos);
      pos += v.length;
    }
  }
  if (pos !== meta.bytes) {
    throw new Error(
      `Segment ${name} in ${description} is damaged: its chunks hold ${pos} bytes, ` +
        `its metadata records ${meta.bytes}`,
    );
  }
  const crc = crc32(out);
  if (crc !== meta.crc32) {
    throw new Error(
      `Segment ${name} in ${description} is damaged: CRC-32 ${crc} of its bytes ` +
        `differs from the ${meta.crc32} its metadata records`,
    );
  }
  return out;
}

/** Every `[name, gen]` with chunks, reading one chunk per group (a skip scan). */
export async function chunkGroups(
  kv: Deno.Kv,
  chunkPrefix: Deno.KvKey,
): Promise<Array<[string, string]>> {
  const groups: Array<[string, string]> = [];
  const n = chunkPrefix.length;
  let start: Deno.KvKey | undefined;
  for (;;) {
    const selector = start === undefined ? { prefix: chunkPrefix } : { prefix: chunkPrefix, start };
    let key: Deno.KvKey | undefined;
    for await (const e of kv.list(selector, { limit: 1 })) key = e.key;
    if (key === undefined) return groups;
    const name = key[n];
    const gen = key[n + 1];
    if (typeof name === "string" && typeof gen === "string") {
      groups.push([name, gen]);
      // Chunk indexes are numbers; booleans sort after every number.
      start = [...chunkPrefix, name, gen, true];
    } else {
      // Not a key this backend writes; step over it.
      start = [...key, true];
    }
  }
}
