// Random UTF-16 strings for the codec, segment and fold property tests.

/** A seeded PRNG (mulberry32), so a failing string can be reproduced. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random UTF-16 strings: ASCII, NUL, 2- and 3-byte code points, U+FFFD, surrogate pairs and
 * lone high and low surrogates (including a low before a high, which is no pair), of lengths
 * on both sides of the short-string fast paths (64 and 128 code units) and up to 5000.
 */
export function randomUtf16Strings(seed: number, count: number): string[] {
  const rand = mulberry32(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const unit = (): string => {
    switch (pick(9)) {
      case 0:
        return String.fromCharCode(0x20 + pick(0x5f));
      case 1:
        return "\0";
      case 2:
        return String.fromCharCode(0x80 + pick(0x780));
      case 3:
        return String.fromCharCode(0xe000 + pick(0x2000));
      case 4:
        return "\ufffd";
      case 5:
        return String.fromCodePoint(0x10000 + pick(0x100000));
      case 6:
        return String.fromCharCode(0xd800 + pick(0x400)); // lone high (unless a low follows)
      case 7:
        return String.fromCharCode(0xdc00 + pick(0x400)); // lone low
      default:
        return "\udc00\ud800";
    }
  };
  const lengths = [0, 1, 2, 3, 63, 64, 65, 127, 128, 129, 300, 5000];
  const out: string[] = [
    "\ud800",
    "\udc00",
    "\ufffd",
    "\udbff\udfff",
    "\ud800\ud800",
    "\0",
    "\ufeff",
    "\ufeffkey",
    "\ufeff\ud800",
  ];
  for (let i = 0; i < count; i++) {
    const len = i < lengths.length ? lengths[i]! : rand() < 0.9 ? pick(40) : pick(600);
    // Mostly one kind of unit per string, so pure-ASCII and well-formed strings occur too.
    const mixed = rand() < 0.5;
    const first = unit();
    let s = "";
    while (s.length < len) s += mixed ? unit() : rand() < 0.8 ? "k" : first;
    out.push(s);
  }
  return out;
}
