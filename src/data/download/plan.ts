import { posix } from "node:path";
import { UsageError } from "../../core/errors.js";
import type { Interval } from "../intervals.js";
import { parseSymbols } from "../symbols.js";

export { parseSymbols };

/** A calendar month, `month` 1–12. */
export interface YearMonth {
  readonly year: number;
  readonly month: number;
}

/** One archive of the Binance data dump, with where it lives remotely and locally. */
export interface ArchiveSpec {
  readonly symbol: string;
  readonly interval: Interval;
  /** Months before the current UTC month come as one monthly file; the current month as daily files. */
  readonly granularity: "monthly" | "daily";
  /** `YYYY-MM` for monthly archives, `YYYY-MM-DD` for daily ones. */
  readonly period: string;
  /** e.g. `BTCUSDT-5m-2021-01.zip` */
  readonly fileName: string;
  /** Path below the base URL, e.g. `data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-01.zip`. */
  readonly remotePath: string;
  /** Path below the download directory: the remote path without its leading `data/`. */
  readonly localPath: string;
}

export interface DownloadPlanRequest {
  readonly symbols: readonly string[];
  readonly interval: Interval;
  readonly from: YearMonth;
  /** Defaults to `from`. */
  readonly to?: YearMonth;
  /** "Now", injected so that tests (and reruns) decide which month is the current one. */
  readonly now: Date;
}

export interface DownloadPlan {
  readonly archives: readonly ArchiveSpec[];
  /** Things the user should know about the plan, e.g. that today's data is not published yet. */
  readonly notes: readonly string[];
}

const MONTH_PATTERN = /^(\d{4})-(\d{2})$/;

/** Parses `YYYY-MM`; `flag` names the option in the error (`--from`). */
export function parseYearMonth(text: string, flag = "month"): YearMonth {
  const match = MONTH_PATTERN.exec(text.trim());
  const year = Number(match?.[1]);
  const month = Number(match?.[2]);
  if (!match || month < 1 || month > 12 || year < 2000) {
    throw new UsageError(`${flag} "${text}" is not a month`, {
      hint: "write months as YYYY-MM, e.g. 2021-01",
    });
  }
  return { year, month };
}

export function formatYearMonth(value: YearMonth): string {
  return `${value.year}-${String(value.month).padStart(2, "0")}`;
}

/** Negative when `a` is before `b`, 0 when equal. */
export function compareYearMonth(a: YearMonth, b: YearMonth): number {
  return a.year * 12 + a.month - (b.year * 12 + b.month);
}

/**
 * Lists the archives that cover `[from, to]` for every symbol. Months wholly in the past come as monthly
 * archives; the current UTC month as daily archives up to yesterday (today's is not published until tomorrow).
 * Throws a UsageError for months after the current one or `from` after `to`.
 */
export function planDownloads(request: DownloadPlanRequest): DownloadPlan {
  const to = request.to ?? request.from;
  const { from, now } = request;
  const current: YearMonth = { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1 };
  if (compareYearMonth(from, to) > 0) {
    throw new UsageError(`--from ${formatYearMonth(from)} is after --to ${formatYearMonth(to)}`, {
      hint: "swap them, or leave --to out to download a single month",
    });
  }
  if (compareYearMonth(to, current) > 0) {
    throw new UsageError(
      `${formatYearMonth(to)} is in the future (the current UTC month is ${formatYearMonth(current)})`,
      { hint: `end the range at ${formatYearMonth(current)} or earlier` },
    );
  }
  const symbols = parseSymbols(request.symbols);
  const notes: string[] = [];
  const archives: ArchiveSpec[] = [];
  for (const symbol of symbols) {
    for (let ym = from; compareYearMonth(ym, to) <= 0; ym = nextMonth(ym)) {
      if (compareYearMonth(ym, current) < 0) {
        archives.push(archiveSpec(symbol, request.interval, "monthly", formatYearMonth(ym)));
        continue;
      }
      // The current month: one daily file per complete day, i.e. up to yesterday.
      const days = now.getUTCDate() - 1;
      for (let day = 1; day <= days; day++) {
        const period = `${formatYearMonth(ym)}-${String(day).padStart(2, "0")}`;
        archives.push(archiveSpec(symbol, request.interval, "daily", period));
      }
    }
  }
  if (compareYearMonth(to, current) === 0) {
    notes.push(
      now.getUTCDate() === 1
        ? `${formatYearMonth(current)} has no complete day yet; nothing of it is published`
        : `${formatYearMonth(current)} is the current month: daily archives up to yesterday, ` +
            "the latest of which Binance may not have published yet",
    );
  }
  return { archives, notes };
}

/** Builds the spec of one archive; exported for tests and for callers that know the exact file. */
export function archiveSpec(
  symbol: string,
  interval: Interval,
  granularity: "monthly" | "daily",
  period: string,
): ArchiveSpec {
  const fileName = `${symbol}-${interval}-${period}.zip`;
  const localPath = posix.join("spot", granularity, "klines", symbol, interval, fileName);
  return { symbol, interval, granularity, period, fileName, localPath, remotePath: `data/${localPath}` };
}

/** The archive's URL below `baseUrl` (with or without a trailing slash). */
export function archiveUrl(baseUrl: string, spec: ArchiveSpec, suffix = ""): string {
  return `${baseUrl.replace(/\/+$/, "")}/${spec.remotePath}${suffix}`;
}

function nextMonth(value: YearMonth): YearMonth {
  return value.month === 12
    ? { year: value.year + 1, month: 1 }
    : { year: value.year, month: value.month + 1 };
}
