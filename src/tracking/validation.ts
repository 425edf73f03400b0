/**
 * The rules MLflow applies to what is logged (mlflow/utils/validation.py), checked before anything
 * reaches a store, so the embedded store refuses exactly what an MLflow server would, with the same
 * error code (INVALID_PARAMETER_VALUE), and cryptoml additionally refuses non-finite metric values.
 */
import { invalidValue } from "./errors.js";
import type { Metric, Param, Tag } from "./types.js";

export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;

/** Alphanumerics, underscores, dashes, periods, spaces, colons and slashes, as MLflow allows. */
const KEY_PATTERN = /^[/\w.\- :]*$/;

const KEY_HINT = "use letters, digits and _ - . : / or spaces, at most 250 characters";

export function validateKey(kind: "metric" | "param" | "tag", key: unknown): asserts key is string {
  if (typeof key !== "string" || key === "") {
    throw invalidValue(`${kind} name must be a non-empty string, got ${JSON.stringify(key)}`, KEY_HINT);
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw invalidValue(
      `${kind} name '${key.slice(0, 40)}…' is ${key.length} characters, longer than ${MAX_KEY_LENGTH}`,
      KEY_HINT,
    );
  }
  if (!KEY_PATTERN.test(key)) {
    throw invalidValue(
      `Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).`,
      KEY_HINT,
    );
  }
  // A name is also a path inside MLflow's file layout: no parent references, no absolute paths.
  if (key.startsWith("/") || key.split("/").some((part) => part === ".." || part === ".")) {
    throw invalidValue(
      `Invalid ${kind} name: '${key}'. Names may not be absolute or contain '.' or '..' segments.`,
      KEY_HINT,
    );
  }
}

export function validateMetric(metric: Metric): void {
  validateKey("metric", metric.key);
  if (typeof metric.value !== "number" || !Number.isFinite(metric.value)) {
    throw invalidValue(
      `metric '${metric.key}' at step ${metric.step} has value ${metric.value}; metric values must be finite numbers`,
      "a NaN or infinite metric usually means training diverged; log it as a tag or stop the run instead",
    );
  }
  if (!Number.isSafeInteger(metric.step)) {
    throw invalidValue(`metric '${metric.key}' has step ${metric.step}; steps must be integers`);
  }
  if (!Number.isSafeInteger(metric.timestamp) || metric.timestamp < 0) {
    throw invalidValue(
      `metric '${metric.key}' has timestamp ${metric.timestamp}; timestamps are epoch milliseconds (integers >= 0)`,
    );
  }
}

export function validateParam(param: Param): void {
  validateKey("param", param.key);
  if (typeof param.value !== "string") {
    throw invalidValue(`param '${param.key}' value must be a string, got ${typeof param.value}`);
  }
  if (param.value.length > MAX_PARAM_VALUE_LENGTH) {
    throw invalidValue(
      `Param value '${param.value.slice(0, 40)}…' had length ${param.value.length}, which exceeded length limit of ${MAX_PARAM_VALUE_LENGTH}`,
      "log long values (a whole config) as an artifact instead",
    );
  }
}

export function validateTag(tag: Tag): void {
  validateKey("tag", tag.key);
  if (typeof tag.value !== "string")
    throw invalidValue(`tag '${tag.key}' value must be a string, got ${typeof tag.value}`);
  if (tag.value.length > MAX_TAG_VALUE_LENGTH) {
    throw invalidValue(
      `Tag value '${tag.value.slice(0, 40)}…' had length ${tag.value.length}, which exceeded length limit of ${MAX_TAG_VALUE_LENGTH}`,
    );
  }
}

export function validateExperimentName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.trim() === "") {
    throw invalidValue(
      `experiment name must be a non-empty string, got ${JSON.stringify(name)}`,
      "set tracking.experiment_name",
    );
  }
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) {
    throw invalidValue(
      `experiment name is ${name.length} characters, longer than ${MAX_EXPERIMENT_NAME_LENGTH}`,
    );
  }
}

export function validateModelName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.trim() === "") {
    throw invalidValue(`registered model name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (name.includes("/") || name.includes(":")) {
    throw invalidValue(
      `Invalid registered model name '${name}': '/' and ':' are not allowed`,
      "use e.g. cryptoml-BTCUSDT-lstm",
    );
  }
}

export function validateRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== "string" || !/^[a-zA-Z0-9][\w-]{0,255}$/.test(runId)) {
    throw invalidValue(
      `Invalid run ID: ${JSON.stringify(runId)}`,
      "run IDs are 32 hexadecimal characters; list them with `cryptoml runs list`",
    );
  }
}

/** Values as MLflow stores params: strings (numbers and booleans as JavaScript prints them, objects as JSON). */
export function paramValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
