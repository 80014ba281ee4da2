// A small deterministic PRNG (xorshift32) for tests that inject faults: the same seed gives the
// same losses, duplicates and reorderings, so a failure can be replayed.
export function xorshift(seed: number): () => number {
  let rnd = seed >>> 0 || 1;
  return (): number => {
    rnd ^= rnd << 13;
    rnd >>>= 0;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    rnd >>>= 0;
    return rnd / 2 ** 32;
  };
}
