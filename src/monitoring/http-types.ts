/**
 * The shapes shared by cryptoml's small HTTP servers (the /metrics exporter of every long-running
 * command, and `cryptoml monitor`'s alert API): routes as plain handlers, readiness as named checks.
 */
import type { IncomingMessage } from "node:http";

export interface RouteResponse {
  readonly status: number;
  /** Defaults to `application/json; charset=utf-8`. */
  readonly contentType?: string;
  readonly body: string;
}

/** One endpoint. Routes that change state set `requiresToken`: the server then demands `Authorization: Bearer <token>`. */
export interface Route {
  readonly method: "GET" | "POST" | "DELETE";
  /** Exact path, e.g. `/api/alerts/ack`. */
  readonly path: string;
  readonly requiresToken: boolean;
  handle(request: {
    readonly url: URL;
    readonly body: string;
    readonly raw: IncomingMessage;
  }): Promise<RouteResponse>;
}

/** The outcome of one readiness check. */
export interface CheckResult {
  readonly ok: boolean;
  /** What was checked and, when not ok, what is wrong and how to fix it. */
  readonly detail: string;
}

/** A component /ready asks (a store, Redis, the training heartbeat); every check must pass for 200. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<CheckResult>;
}

/** The environment variable holding the bearer token for state-changing endpoints (never in config files). */
export const TOKEN_ENV = "CRYPTOML_MONITOR_TOKEN";
