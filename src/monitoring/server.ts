/**
 * The small HTTP server of every long-running cryptoml command: GET /metrics (text 0.0.4, OpenMetrics
 * when asked), GET /health (liveness), GET /ready (readiness checks), plus extra routes (the alert API
 * of `cryptoml monitor`). A handler's error answers 500 and is counted; it never crashes the process.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CryptomlError } from "../core/errors.js";
import {
  type CheckResult,
  type ReadinessCheck,
  type Route,
  type RouteResponse,
  TOKEN_ENV,
} from "./http-types.js";
import type { CryptomlMetrics } from "./registry.js";

export interface MetricsServerOptions {
  /** Interface to bind. Default 127.0.0.1 (metrics stay off the network). */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly registry: CryptomlMetrics;
  readonly routes?: readonly Route[];
  readonly checks?: readonly ReadinessCheck[];
  /** Bearer token for routes with `requiresToken`; without one those routes answer 403. */
  readonly token?: string;
  readonly log?: (line: string) => void;
  /** Time limit of each readiness check. Default 2000 ms. */
  readonly checkTimeoutMs?: number;
  /** Largest request body accepted. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Milliseconds clock for /health's uptime. Default Date.now. */
  readonly clock?: () => number;
}

export interface MetricsServer {
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Reply extends RouteResponse {
  readonly headers?: Readonly<Record<string, string>>;
}

const JSON_TYPE = "application/json; charset=utf-8";
const BUILTIN_PATHS = new Set(["/metrics", "/health", "/ready"]);

/** Starts the server; rejects with a CryptomlError when the port is taken or not permitted. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? "127.0.0.1";
  const clock = options.clock ?? Date.now;
  const startedAt = clock();
  const log = options.log ?? (() => {});
  const dispatch = router(options, () => (clock() - startedAt) / 1000);

  const server = createServer((request, response) => {
    handle(request, response, dispatch, options.maxBodyBytes ?? 1024 * 1024).catch((error: unknown) => {
      options.registry.counter("cryptoml_errors_total").inc({ component: "monitoring" });
      log(`monitoring: ${request.method} ${request.url} failed: ${messageOf(error)}`);
      send(response, { status: 500, body: JSON.stringify({ error: messageOf(error) }) });
    });
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      rejectListen(listenError(error, host, options.port)),
    );
    server.listen(options.port, host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

type Dispatch = (
  method: string,
  url: URL,
  headers: IncomingMessage,
  body: () => Promise<string>,
) => Promise<Reply>;

function router(options: MetricsServerOptions, uptimeS: () => number): Dispatch {
  const routes = options.routes ?? [];
  return async (method, url, raw, body) => {
    const path = url.pathname;
    if (BUILTIN_PATHS.has(path)) {
      if (method !== "GET" && method !== "HEAD") return methodNotAllowed(["GET", "HEAD"]);
      if (path === "/metrics") {
        const { contentType, body: text } = await options.registry.exposition(raw.headers.accept);
        return { status: 200, contentType, body: text };
      }
      if (path === "/health")
        return json(200, { status: "ok", uptime_s: Math.round(uptimeS() * 1000) / 1000 });
      return readiness(options.checks ?? [], options.checkTimeoutMs ?? 2000);
    }
    const onPath = routes.filter((r) => r.path === path);
    if (onPath.length === 0) return json(404, { error: `no endpoint ${path}` });
    const route = onPath.find((r) => r.method === method);
    if (route === undefined) return methodNotAllowed(onPath.map((r) => r.method));
    if (route.requiresToken) {
      const refusal = authorize(raw.headers.authorization, options.token);
      if (refusal !== undefined) return refusal;
    }
    return route.handle({ url, body: await body(), raw });
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  dispatch: Dispatch,
  maxBodyBytes: number,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const method = request.method ?? "GET";
  const body = () => readBody(request, maxBodyBytes);
  let reply: Reply;
  try {
    reply = await dispatch(method, url, request, body);
  } catch (error) {
    if (!(error instanceof BodyTooLarge)) throw error;
    reply = json(413, { error: error.message });
  }
  send(response, reply, method === "HEAD");
}

function send(response: ServerResponse, reply: Reply, headOnly = false): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = Buffer.from(reply.body, "utf8");
  response.writeHead(reply.status, {
    "content-type": reply.contentType ?? JSON_TYPE,
    "content-length": body.length,
    "cache-control": "no-store",
    ...reply.headers,
  });
  response.end(headOnly ? undefined : body);
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolveBody, rejectBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        rejectBody(new BodyTooLarge(`request body over ${limit} bytes`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolveBody(Buffer.concat(chunks).toString("utf8")));
    request.on("error", rejectBody);
  });
}

/** Runs every check at once, each bounded by `timeoutMs`; 200 only when all pass. */
async function readiness(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<Reply> {
  const results = await Promise.all(
    checks.map(async (c) => ({ name: c.name, ...(await runCheck(c, timeoutMs)) })),
  );
  const ready = results.every((r) => r.ok);
  return json(ready ? 200 : 503, { status: ready ? "ready" : "not ready", checks: results });
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((done) => {
    timer = setTimeout(() => done({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      check.check().catch((error: unknown) => ({ ok: false, detail: `check failed: ${messageOf(error)}` })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Undefined when the request may pass; else the 401/403 reply. */
function authorize(header: string | undefined, token: string | undefined): Reply | undefined {
  if (token === undefined || token === "") {
    return json(403, {
      error: `this endpoint changes state and needs a bearer token, but none is configured; set ${TOKEN_ENV} in the environment of the server and send "Authorization: Bearer <token>"`,
    });
  }
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  const given = Buffer.from(match?.[1]?.trim() ?? "", "utf8");
  const expected = Buffer.from(token, "utf8");
  if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  return {
    ...json(401, {
      error: `missing or wrong bearer token; send "Authorization: Bearer <token>" with the value of ${TOKEN_ENV}`,
    }),
    headers: { "www-authenticate": 'Bearer realm="cryptoml"' },
  };
}

function methodNotAllowed(allowed: readonly string[]): Reply {
  return {
    ...json(405, { error: `method not allowed; use ${allowed.join(", ")}` }),
    headers: { allow: allowed.join(", ") },
  };
}

function json(status: number, value: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const hint =
    "choose another port with --metrics-port N or monitoring.port in config/monitoring.yaml (0 picks a free one)";
  if (error.code === "EADDRINUSE") {
    return new CryptomlError(
      "NETWORK",
      `port ${port} on ${host} is already in use (another cryptoml process?)`,
      {
        hint,
        cause: error,
      },
    );
  }
  if (error.code === "EACCES") {
    return new CryptomlError("NETWORK", `not permitted to listen on ${host}:${port}`, { hint, cause: error });
  }
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
    return new CryptomlError("NETWORK", `cannot bind ${host}: no such local address`, {
      hint: "set monitoring.host to 127.0.0.1, 0.0.0.0 or an address of this machine",
      cause: error,
    });
  }
  return new CryptomlError("NETWORK", `cannot listen on ${host}:${port}: ${error.message}`, { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
