/**
 * Cyclical calendar features of each candle's open time (UTC). Encoding a cycle as a point on the unit
 * circle keeps 23:55 next to 00:00 and Sunday next to Monday, which a raw hour or weekday number does not.
 * Both are defined from row 0: no warm-up.
 */

const DAY_MS = 86_400_000;
const TWO_PI = 2 * Math.PI;

/** Sine and cosine of one cyclical feature, aligned to the input rows. */
export interface CyclicalColumns {
  readonly sin: Float64Array;
  readonly cos: Float64Array;
}

/** Non-negative remainder, so open times before 1970 still map into [0, divisor). */
function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

/** `sin/cos(2π · s / 86400)` with s the seconds since UTC midnight of the candle's open. */
export function timeOfDay(openTime: Float64Array): CyclicalColumns {
  const sin = new Float64Array(openTime.length);
  const cos = new Float64Array(openTime.length);
  for (let t = 0; t < openTime.length; t++) {
    const angle = (TWO_PI * modulo(openTime[t] as number, DAY_MS)) / DAY_MS;
    sin[t] = Math.sin(angle);
    cos[t] = Math.cos(angle);
  }
  return { sin, cos };
}

/** `sin/cos(2π · d / 7)` with d the UTC weekday of the candle's open, Monday = 0 … Sunday = 6. */
export function dayOfWeek(openTime: Float64Array): CyclicalColumns {
  const sin = new Float64Array(openTime.length);
  const cos = new Float64Array(openTime.length);
  for (let t = 0; t < openTime.length; t++) {
    // 1970-01-01 was a Thursday, weekday 3 when Monday is 0.
    const weekday = modulo(Math.floor((openTime[t] as number) / DAY_MS) + 3, 7);
    const angle = (TWO_PI * weekday) / 7;
    sin[t] = Math.sin(angle);
    cos[t] = Math.cos(angle);
  }
  return { sin, cos };
}
