/**
 * Downloading the Binance data dump: plan which archives cover a month range, fetch them with resume,
 * retries and checksum verification into a local mirror, and report what happened.
 */
export {
  type ArchiveResult,
  type ArchiveStatus,
  DEFAULT_BASE_URL,
  DEFAULT_CONCURRENCY,
  DEFAULT_STALL_TIMEOUT_MS,
  DOWNLOAD_LOCK_FILE,
  type DownloadEvent,
  type DownloadOptions,
  type DownloadReport,
  downloadArchives,
} from "./downloader.js";
export {
  DEFAULT_RETRY,
  DownloadInterruptedError,
  NotPublishedError,
  parseRetryAfter,
  type RetryNotice,
  type RetryPolicy,
  realSleep,
  type Sleep,
} from "./http.js";
export { DownloadFailedError, downloadOutcomeError } from "./outcome.js";
export {
  type ArchiveSpec,
  archiveSpec,
  archiveUrl,
  compareYearMonth,
  type DownloadPlan,
  type DownloadPlanRequest,
  formatYearMonth,
  parseSymbols,
  parseYearMonth,
  planDownloads,
  type YearMonth,
} from "./plan.js";
export { DownloadProgress, describeResult, formatBytes, formatDuration, formatRate } from "./progress.js";
