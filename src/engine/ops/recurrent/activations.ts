/**
 * exp, σ and tanh for the gate loops. Math.exp and Math.tanh are calls into the runtime that cost
 * more than all the arithmetic around them; these are plain arithmetic that the JIT inlines, accurate
 * to about 1e-10 relative — far under float32's half-ulp (6e-8), which is all the stored values keep.
 * The range functions exist so that each call site sits alone in a small loop: V8 inlines it there,
 * where a loop body with five call sites exceeded its inlining budget.
 */
const STEPS_PER_OCTAVE = 32;
const EXP_LIMIT = 88;
const TABLE_MID = 4096; // > 88·32/ln2 ≈ 4063
/** 2^(n/32) for n in [−4096, 4096]: 64 KiB, of which one pass touches a few lines. */
const POW2_TABLE = Float64Array.from(
  { length: 2 * TABLE_MID + 1 },
  (_, i) => 2 ** ((i - TABLE_MID) / STEPS_PER_OCTAVE),
);
const TO_STEPS = STEPS_PER_OCTAVE / Math.LN2;
const STEP = Math.LN2 / STEPS_PER_OCTAVE;
const C3 = 1 / 6;
const C4 = 1 / 24;
const TANH_SERIES_BELOW = 0.004;

/**
 * e^x in float64 arithmetic: x = n·ln2/32 + r with |r| ≤ ln2/64, e^r by its Taylor series to r⁴
 * (truncation ≤ 2e-12 relative), times 2^(n/32) from a table. |x| is clamped to 88, beyond which a
 * float32 sigmoid or tanh no longer changes. NaN stays NaN (the table read is undefined). (Measured: a third of Math.exp's time, and
 * faster than a degree-7 series with a 2^k table.)
 */
export function expOf(x: number): number {
  const v = Math.min(Math.max(x, -EXP_LIMIT), EXP_LIMIT);
  const n = Math.floor(v * TO_STEPS + 0.5);
  const r = v - n * STEP;
  const p = 1 + r * (1 + r * (0.5 + r * (C3 + r * C4)));
  return p * (POW2_TABLE[n + TABLE_MID] as number);
}

/** The logistic function 1 / (1 + e^−v). */
export function sigmoidOf(v: number): number {
  return 1 / (1 + expOf(-v));
}

/**
 * tanh v = (1 − e^−2|v|) / (1 + e^−2|v|), signed. Below |v| = 0.004 the subtraction would cancel (at
 * |v| = 1e-12 only four digits survive), so there the series v − v³/3 + 2v⁵/15 takes over, exact to
 * 3e-16 relative; above, 1 − e^−2|v| ≥ 0.008 keeps ~1e-10 relative.
 */
export function tanhOf(v: number): number {
  const a = Math.abs(v);
  const a2 = a * a;
  if (a < TANH_SERIES_BELOW) return v * (1 - a2 * (1 / 3 - a2 * (2 / 15)));
  const u = expOf(-2 * a);
  const t = (1 - u) / (1 + u);
  return v < 0 ? -t : t;
}

/** `g[at + k] = σ(g[at + k] + bias[from + k])` for k < count. */
export function sigmoidBiased(
  g: Float32Array,
  at: number,
  count: number,
  bias: Float32Array,
  from: number,
): void {
  for (let k = 0; k < count; k++) g[at + k] = sigmoidOf((g[at + k] as number) + (bias[from + k] as number));
}

/** `g[at + k] = tanh(g[at + k] + bias[from + k])` for k < count. */
export function tanhBiased(
  g: Float32Array,
  at: number,
  count: number,
  bias: Float32Array,
  from: number,
): void {
  for (let k = 0; k < count; k++) g[at + k] = tanhOf((g[at + k] as number) + (bias[from + k] as number));
}

/** `g[at + k] = σ(g[at + k] + h[hAt + k] + bias[k])` for k < count: GRU's r and z. */
export function sigmoidOfSum(
  g: Float32Array,
  at: number,
  h: Float32Array,
  hAt: number,
  count: number,
  bias: Float32Array,
): void {
  for (let k = 0; k < count; k++) {
    g[at + k] = sigmoidOf((g[at + k] as number) + (h[hAt + k] as number) + (bias[k] as number));
  }
}
