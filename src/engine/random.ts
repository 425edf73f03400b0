import { CryptomlError } from "../core/errors.js";

/** The whole state of an {@link Rng}: plain JSON, so a checkpoint restores the exact stream. */
export interface RngState {
  readonly kind: "xoshiro128**";
  /** The four 32-bit words of the generator, as unsigned integers. */
  readonly s: readonly [number, number, number, number];
  /** The second normal of the last Box–Muller pair, not yet returned (null when none is pending). */
  readonly spare: number | null;
}

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const TWO_PI = 2 * Math.PI;
/** xoshiro128's jump polynomial: 2^64 draws ahead (Blackman & Vigna, xoshiro128starstar.c). */
const JUMP = [0x8764000b, 0xf542d2d3, 0x6fa035c3, 0x77f2db5b] as const;

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/**
 * A seeded pseudo-random generator: xoshiro128** (Blackman & Vigna, 2018), period 2^128 − 1, 32-bit
 * output, fast in JavaScript because all of its arithmetic is 32-bit integer (`Math.imul`, shifts).
 *
 * Everything random in the engine (initialisers, dropout masks, shuffles) draws from an `Rng` that
 * the caller passes in; there is no global generator and `Math.random` is never used. `state()` and
 * `setState()` capture and restore the stream exactly, including a pending Box–Muller normal, so a
 * run resumed from a checkpoint draws the same numbers it would have drawn without the interruption.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /**
   * @param seed any safe integer (negative and above 2^32 included); equal seeds give equal streams.
   * The four state words are expanded from the seed with SplitMix32, so nearby seeds give unrelated
   * streams and the state is never all zero.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new CryptomlError("USAGE", `Rng.seed=${seed} must be a safe integer`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = (lo ^ Math.imul(hi, 0x85ebca6b)) | 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return z ^ (z >>> 15);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator continuing exactly from a saved {@link RngState}. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** The next 32 random bits, as an unsigned integer in [0, 2^32). */
  uint32(): number {
    const s1 = this.s1;
    const out = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return out;
  }

  /** A uniform draw in [low, high) (default [0, 1)), with 32 bits of resolution. */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * (this.uint32() * INV_TWO_POW_32);
  }

  /**
   * A normal draw (default standard normal) by the Box–Muller transform. Each pair of uniforms gives
   * two independent normals; the second is kept for the next call (and in `state()`).
   */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    // u1 in (0, 1] so the logarithm is finite; the largest |z| is √(2·ln 2^32) ≈ 6.66.
    const u1 = (this.uint32() + 1) * INV_TWO_POW_32;
    const theta = TWO_PI * this.uint32() * INV_TWO_POW_32;
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(theta);
    return mean + std * r * Math.cos(theta);
  }

  /** An unbiased integer in [0, n), for 1 ≤ n ≤ 2^32 (rejection of the incomplete last block, then modulo). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new CryptomlError("USAGE", `Rng.int(n=${n}): n must be an integer in [1, 2^32]`);
    }
    // Draws at or above `limit` would make the low residues more likely than the high ones.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** Fills `out` with uniform draws in [low, high) (rounded to float32 when `out` is a Float32Array). */
  fillUniform(out: Float32Array | Float64Array, low: number, high: number): void {
    const width = (high - low) * INV_TWO_POW_32;
    for (let i = 0; i < out.length; i++) out[i] = low + width * this.uint32();
  }

  /** Fills `out` with normal draws N(mean, std²). */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
  }

  /**
   * Advances the stream by 2^64 draws: `jump()` applied k times to copies of one generator gives k
   * non-overlapping streams (one per data-parallel replica, for example).
   */
  jump(): void {
    let t0 = 0;
    let t1 = 0;
    let t2 = 0;
    let t3 = 0;
    for (const word of JUMP) {
      for (let b = 0; b < 32; b++) {
        if ((word >>> b) & 1) {
          t0 ^= this.s0;
          t1 ^= this.s1;
          t2 ^= this.s2;
          t3 ^= this.s3;
        }
        this.uint32();
      }
    }
    this.s0 = t0;
    this.s1 = t1;
    this.s2 = t2;
    this.s3 = t3;
    this.spare = null;
  }

  /** The exact state, as plain JSON (see {@link RngState}). */
  state(): RngState {
    return {
      kind: "xoshiro128**",
      s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spare: this.spare,
    };
  }

  /** Restores a state from {@link state}; the stream continues exactly where it was saved. */
  setState(state: RngState): void {
    const words = state?.s;
    const valid =
      state?.kind === "xoshiro128**" &&
      Array.isArray(words) &&
      words.length === 4 &&
      words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32) &&
      words.some((w) => w !== 0) &&
      (state.spare === null || Number.isFinite(state.spare));
    if (!valid) {
      throw new CryptomlError(
        "USAGE",
        `Rng.setState: ${JSON.stringify(state)} is not an xoshiro128** state (four uint32 words, not all 0, and spare null or finite)`,
      );
    }
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w | 0) as [number, number, number, number];
    this.spare = state.spare;
  }
}
