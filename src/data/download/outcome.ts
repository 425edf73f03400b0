import {
  ChecksumError,
  CryptomlError,
  DataFormatError,
  type ErrorCode,
  NotFoundError,
} from "../../core/errors.js";
import type { ArchiveResult, DownloadReport } from "./downloader.js";
import { DownloadInterruptedError } from "./http.js";

/**
 * Some archives could not be downloaded or did not verify; `failures` lists them. The code is the one the
 * failures share (`CHECKSUM_MISMATCH`, `DATA_FORMAT` for a malformed `.CHECKSUM`, `NETWORK`); mixed
 * failures that include a network error are `NETWORK`, other mixes take the first failure's code.
 */
export class DownloadFailedError extends CryptomlError {
  readonly failures: readonly ArchiveResult[];

  constructor(report: DownloadReport) {
    const { failures } = report;
    const lines = failures.map((f) => `  ${f.archive.fileName}: ${f.error?.message ?? "failed"}`);
    const hints = ["verified archives are kept; run the same command again to retry the others"];
    if (failures.some((f) => f.error instanceof ChecksumError)) {
      hints.push("files that failed verification are kept as <file>.corrupt for inspection");
    }
    if (failures.some((f) => f.error instanceof DataFormatError)) {
      hints.push(
        'a .CHECKSUM that is not "<sha256>  <file name>" did not come from a Binance data dump: ' +
          "check --base-url, and delete a malformed local one to have it fetched again",
      );
    }
    super(
      failureCode(failures),
      `${failures.length} of ${report.results.length} archives failed:\n${lines.join("\n")}`,
      { hint: hints.join("; ") },
    );
    this.failures = failures;
  }
}

function failureCode(failures: readonly ArchiveResult[]): ErrorCode {
  // An error from outside our taxonomy (a socket, the file system) counts as a network failure.
  const codes = failures.map((f) => (f.error instanceof CryptomlError ? f.error.code : "NETWORK"));
  const first = codes[0] ?? "NETWORK";
  if (codes.every((code) => code === first)) return first;
  return codes.includes("NETWORK") ? "NETWORK" : first;
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
