/**
 * Durations for time-bounded runs (`cryptoml train --duration 8h`): parsing what users type into
 * milliseconds, and formatting milliseconds back for progress lines and summaries.
 */
import { UsageError } from "../core/errors.js";

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
const UNIT_ORDER = ["d", "h", "m", "s"] as const;

/** The accepted forms, quoted in every parse error. */
export const DURATION_FORMS =
  "90s, 30m, 8h, 2d, combinations such as 1h30m, or DD:HH:MM:SS (also HH:MM:SS, MM:SS)";

/** The longest duration accepted: 365 days, far beyond any training budget but safely inside a timer. */
export const MAX_DURATION_MS = 365 * 86_400_000;

const UNITS_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const CLOCK_PATTERN = /^\d+(?::\d{1,2}){1,3}$/;

/**
 * Parses a duration into milliseconds: unit form (`90s`, `30m`, `8h`, `2d`, or units combined in the
 * order d, h, m, s, e.g. `1h30m`) or clock form (`DD:HH:MM:SS`, `HH:MM:SS`, `MM:SS`; fields after the
 * first must be below their unit's range). Surrounding whitespace is ignored; units are lower case.
 * @throws UsageError quoting the value and the accepted forms for anything else, for zero, and for
 *   more than {@link MAX_DURATION_MS}.
 */
export function parseDuration(text: string): number {
  const trimmed = typeof text === "string" ? text.trim() : "";
  const ms = CLOCK_PATTERN.test(trimmed) ? parseClock(trimmed) : parseUnits(trimmed);
  if (ms === undefined) throw durationError(text, "is not a duration");
  if (ms === 0) throw durationError(text, "must be longer than zero");
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) {
    throw durationError(text, `is longer than the maximum of ${formatDuration(MAX_DURATION_MS)}`);
  }
  return ms;
}

function parseUnits(text: string): number | undefined {
  const match = UNITS_PATTERN.exec(text);
  if (!match || text === "") return undefined;
  let total = 0;
  UNIT_ORDER.forEach((unit, i) => {
    const digits = match[i + 1];
    if (digits !== undefined) total += Number(digits) * (UNIT_MS[unit] as number);
  });
  return total;
}

function parseClock(text: string): number | undefined {
  const fields = text.split(":").map(Number);
  // Read from the right: seconds, minutes, hours, days.
  const units = UNIT_ORDER.slice(UNIT_ORDER.length - fields.length);
  const limits: Readonly<Record<string, number>> = { h: 24, m: 60, s: 60 };
  let total = 0;
  for (const [i, value] of fields.entries()) {
    const unit = units[i] as string;
    const limit = limits[unit];
    if (i > 0 && limit !== undefined && value >= limit) return undefined;
    total += value * (UNIT_MS[unit] as number);
  }
  return total;
}

function durationError(text: unknown, problem: string): UsageError {
  return new UsageError(`duration ${JSON.stringify(text)} ${problem}`, { hint: `use ${DURATION_FORMS}` });
}

/**
 * Formats milliseconds for display: the largest units first, zero units left out, e.g. `1h 30m`,
 * `2d 0h 5m` is written `2d 5m`; below a minute, seconds keep one decimal (`12.5s`). Negative values
 * get a leading `-`; non-finite values are written as they are (`Infinity`).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  // Decide on the rounded value, so 59.99 s reads "1m", not "60s".
  if (Math.round(ms / 100) < 600) {
    const seconds = Math.round(ms / 100) / 10;
    return `${Number.isInteger(seconds) ? seconds.toFixed(0) : seconds.toFixed(1)}s`;
  }
  let rest = Math.round(ms / 1000) * 1000;
  const parts: string[] = [];
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit] as number;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.join(" ");
}
