import { ChecksumError, CryptomlError, NotFoundError } from "../../core/errors.js";
import type { ArchiveResult, DownloadReport } from "./downloader.js";
import { DownloadInterruptedError } from "./http.js";

/** Some archives could not be downloaded or did not verify; `failures` lists them. */
export class DownloadFailedError extends CryptomlError {
  readonly failures: readonly ArchiveResult[];

  constructor(report: DownloadReport) {
    const { failures } = report;
    const lines = failures.map((f) => `  ${f.archive.fileName}: ${f.error?.message ?? "failed"}`);
    const allChecksums = failures.every((f) => f.error instanceof ChecksumError);
    const corrupt = failures.some((f) => f.error instanceof ChecksumError)
      ? "; files that failed verification are kept as <file>.corrupt for inspection"
      : "";
    super(
      allChecksums ? "CHECKSUM_MISMATCH" : "NETWORK",
      `${failures.length} of ${report.results.length} archives failed:\n${lines.join("\n")}`,
      { hint: `verified archives are kept; run the same command again to retry the others${corrupt}` },
    );
    this.failures = failures;
  }
}

/**
 * The error a command should exit with after a download, or undefined when it went well: interrupted;
 * some archives failed; or not one archive was published (a wrong symbol or interval, most likely).
 * Archives that are merely not published (404) are not an error while others were found.
 */
export function downloadOutcomeError(report: DownloadReport): CryptomlError | undefined {
  if (report.interrupted) return new DownloadInterruptedError();
  if (report.failures.length > 0) return new DownloadFailedError(report);
  if (report.verified.length === 0 && report.notAvailable.length > 0) {
    return new NotFoundError(`none of the ${report.notAvailable.length} archives asked for is published`, {
      hint:
        "check the symbol (was it listed on Binance spot in those months?), the interval and the months; " +
        "see https://data.binance.vision/?prefix=data/spot/monthly/klines/",
    });
  }
  return undefined;
}
