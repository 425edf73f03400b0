/**
 * Tracking errors carry MLflow's error codes (the `error_code` of its REST responses), so callers and
 * users see the same code whichever store answered, and an MLflow server's own errors pass through.
 */
import { CryptomlError, type CryptomlErrorOptions } from "../core/errors.js";

export type MlflowErrorCode =
  | "INVALID_PARAMETER_VALUE"
  | "RESOURCE_DOES_NOT_EXIST"
  | "RESOURCE_ALREADY_EXISTS"
  | "INVALID_STATE"
  | "BAD_REQUEST"
  | "TEMPORARILY_UNAVAILABLE"
  | "INTERNAL_ERROR";

export class TrackingError extends CryptomlError {
  readonly mlflowCode: MlflowErrorCode;

  constructor(mlflowCode: MlflowErrorCode, message: string, options: CryptomlErrorOptions = {}) {
    super(
      mlflowCode === "RESOURCE_DOES_NOT_EXIST" ? "NOT_FOUND" : "TRACKING",
      `${mlflowCode}: ${message}`,
      options,
    );
    this.mlflowCode = mlflowCode;
  }
}

export const invalidValue = (message: string, hint?: string): TrackingError =>
  new TrackingError("INVALID_PARAMETER_VALUE", message, hint === undefined ? {} : { hint });

export const notFound = (message: string, hint?: string): TrackingError =>
  new TrackingError("RESOURCE_DOES_NOT_EXIST", message, hint === undefined ? {} : { hint });

export const alreadyExists = (message: string, hint?: string): TrackingError =>
  new TrackingError("RESOURCE_ALREADY_EXISTS", message, hint === undefined ? {} : { hint });

/** True for errors a retry may cure (the server is down, restarting or overloaded). */
export function isTransient(error: unknown): boolean {
  if (error instanceof TrackingError) return error.mlflowCode === "TEMPORARILY_UNAVAILABLE";
  return error instanceof CryptomlError && error.code === "NETWORK";
}
