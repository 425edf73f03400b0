/** Errors of tuning, with a reason callers can branch on (Optuna raises distinct exceptions for these). */
import { CryptomlError, type CryptomlErrorOptions } from "../core/errors.js";

export type TuningErrorReason =
  | "DUPLICATED_STUDY"
  | "STUDY_NOT_FOUND"
  | "TRIAL_NOT_FOUND"
  | "TRIAL_FINISHED"
  | "INVALID_DISTRIBUTION"
  | "INCOMPATIBLE_DISTRIBUTION"
  | "INVALID_VALUE"
  | "STORAGE";

export class TuningError extends CryptomlError {
  readonly reason: TuningErrorReason;

  constructor(reason: TuningErrorReason, message: string, options: CryptomlErrorOptions = {}) {
    super(
      reason.endsWith("NOT_FOUND") ? "NOT_FOUND" : reason === "STORAGE" ? "STORE" : "USAGE",
      message,
      options,
    );
    this.reason = reason;
  }
}

/** Raised inside an objective to stop the trial as PRUNED (Optuna's TrialPruned). */
export class TrialPruned extends Error {
  constructor(message = "trial pruned") {
    super(message);
    this.name = "TrialPruned";
  }
}
