/**
 * The HTTP side of the MLflow REST store: one request function that sends JSON (or bytes), applies a
 * timeout, and turns every failure into a TrackingError. MLflow's own errors (`{error_code, message}`)
 * keep MLflow's code; a server that cannot be reached, resets the connection, times out or answers
 * 502-504 becomes TEMPORARILY_UNAVAILABLE, which `isTransient` recognises, so callers may retry.
 */
import { type MlflowErrorCode, TrackingError } from "../errors.js";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** The server's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly fetch: FetchLike;
}

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface RequestSpec {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
  /** Path under the base URL, starting with `/api/2.0/`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as application/octet-stream (artifact uploads). */
  readonly bytes?: Uint8Array;
}

const KNOWN_CODES: ReadonlySet<string> = new Set<MlflowErrorCode>([
  "INVALID_PARAMETER_VALUE",
  "RESOURCE_DOES_NOT_EXIST",
  "RESOURCE_ALREADY_EXISTS",
  "INVALID_STATE",
  "BAD_REQUEST",
  "TEMPORARILY_UNAVAILABLE",
  "INTERNAL_ERROR",
]);

/** Node's fetch wraps socket errors in `TypeError: fetch failed` with the system error as its cause. */
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

export function buildUrl(
  baseUrl: string,
  path: string,
  query?: Readonly<Record<string, QueryValue>>,
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const search = params.toString();
  return `${baseUrl}${path}${search === "" ? "" : `?${search}`}`;
}

function unavailable(baseUrl: string, what: string, cause?: unknown): TrackingError {
  return new TrackingError("TEMPORARILY_UNAVAILABLE", `MLflow server ${baseUrl}: ${what}`, {
    hint: `check that the MLflow server at ${baseUrl} is running and reachable (mlflow server --host … --port …), then retry`,
    cause,
  });
}

function isNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) return true;
    if (e.name === "TypeError" && e.message === "fetch failed") return true;
    if (e.name === "SocketError") return true;
  }
  return false;
}

function describeCause(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === "string" ? `${e.message} (${code})` : e.message);
  }
  return parts.join(": ");
}

/** The TrackingError for a non-2xx answer: MLflow's own code when the body carries one. */
async function errorFromResponse(
  baseUrl: string,
  spec: RequestSpec,
  response: Response,
): Promise<TrackingError> {
  const text = await response.text().catch(() => "");
  const where = `${spec.method} ${spec.path}`;
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    return unavailable(baseUrl, `${where} answered HTTP ${response.status}`);
  }
  let body: { error_code?: unknown; message?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const code = typeof body?.error_code === "string" ? body.error_code : undefined;
  const message =
    typeof body?.message === "string" ? body.message : text.slice(0, 500) || response.statusText;
  if (code !== undefined && KNOWN_CODES.has(code)) return new TrackingError(code as MlflowErrorCode, message);
  // MLflow has more codes than TrackingError names (NOT_FOUND, PERMISSION_DENIED, …); keep them in the message.
  if (response.status === 404) {
    return new TrackingError("RESOURCE_DOES_NOT_EXIST", `${where}: ${code ?? "HTTP 404"}: ${message}`);
  }
  const fallback: MlflowErrorCode = response.status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST";
  return new TrackingError(fallback, `${where}: ${code ?? `HTTP ${response.status}`}: ${message}`, {
    hint:
      response.status === 403
        ? `the MLflow server at ${baseUrl} refused the request; if it rejects the Host header, start it with --allowed-hosts`
        : undefined,
  });
}

/** Sends one request and returns the raw response once it is 2xx; throws TrackingError otherwise. */
export async function send(options: HttpOptions, spec: RequestSpec): Promise<Response> {
  const url = buildUrl(options.baseUrl, spec.path, spec.query);
  const headers: Record<string, string> = {};
  let body: NonNullable<RequestInit["body"]> | undefined;
  if (spec.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(spec.json);
  } else if (spec.bytes !== undefined) {
    headers["content-type"] = "application/octet-stream";
    body = spec.bytes;
  }
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: spec.method,
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      throw unavailable(
        options.baseUrl,
        `${spec.method} ${spec.path} timed out after ${options.timeoutMs} ms`,
        error,
      );
    }
    if (isNetworkError(error)) {
      throw unavailable(
        options.baseUrl,
        `${spec.method} ${spec.path} failed: ${describeCause(error)}`,
        error,
      );
    }
    throw error;
  }
  if (!response.ok) throw await errorFromResponse(options.baseUrl, spec, response);
  return response;
}

/** Sends a request and parses the JSON answer (`{}` for an empty body). */
export async function sendJson<T>(options: HttpOptions, spec: RequestSpec): Promise<T> {
  const response = await send(options, spec);
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    // The body stream broke (the server died mid-answer or the timeout fired while reading).
    throw unavailable(options.baseUrl, `${spec.method} ${spec.path}: reading the answer failed`, error);
  }
  if (text === "") return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new TrackingError(
      "INTERNAL_ERROR",
      `${spec.method} ${spec.path}: answer is not JSON: ${text.slice(0, 200)}`,
      {
        hint: `check that ${options.baseUrl} is an MLflow tracking server`,
        cause: error,
      },
    );
  }
}

/** Sends a request and returns the answer's bytes. */
export async function sendBytes(options: HttpOptions, spec: RequestSpec): Promise<Uint8Array> {
  const response = await send(options, spec);
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw unavailable(options.baseUrl, `${spec.method} ${spec.path}: reading the answer failed`, error);
  }
}
