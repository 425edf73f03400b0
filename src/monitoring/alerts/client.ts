/** A client of a running monitor's API, for `cryptoml monitor ack|silence|alerts`. */
import { CryptomlError, NetworkError, UsageError } from "../../core/errors.js";
import { TOKEN_ENV } from "../http-types.js";
import type { AlertView } from "./escalation.js";
import type { Silence } from "./silences.js";
import type { TargetHealth } from "./types.js";

export interface MonitorClientOptions {
  /** Base URL of the monitor, e.g. `http://127.0.0.1:9465`. */
  readonly url: string;
  /** Bearer token for acknowledge and silence; undefined fails those calls before sending. */
  readonly token?: string;
  /** Default 5000 ms. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export class MonitorClient {
  constructor(private readonly options: MonitorClientOptions) {}

  alerts(): Promise<{ alerts: AlertView[]; targets: TargetHealth[] }> {
    return this.call("GET", "/api/alerts");
  }

  acknowledge(request: {
    fingerprint?: string;
    matchers?: Record<string, string>;
    by: string;
    comment: string;
  }): Promise<{ acknowledged: AlertView[] }> {
    return this.call("POST", "/api/alerts/ack", request);
  }

  silence(request: {
    matchers: Record<string, string>;
    duration: string;
    comment: string;
    createdBy: string;
  }): Promise<{ silence: Silence }> {
    return this.call("POST", "/api/silences", request);
  }

  silences(): Promise<{ silences: Silence[] }> {
    return this.call("GET", "/api/silences");
  }

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const { url, token, timeoutMs = 5000, fetch: doFetch = fetch } = this.options;
    const changes = method !== "GET";
    if (changes && !token)
      throw new UsageError(
        `${path} changes the monitor's state and needs a bearer token, but ${TOKEN_ENV} is not set`,
        {
          hint: `export ${TOKEN_ENV}=<the token the monitor was started with>`,
        },
      );
    let response: Response;
    try {
      response = await doFetch(new URL(path, url), {
        method,
        headers: {
          ...(changes ? { authorization: `Bearer ${token}`, "content-type": "application/json" } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new NetworkError(`no monitor answers at ${url} (${reason})`, {
        hint: "start it with `cryptoml monitor`, or pass --url with the address it listens on (alerting.host/port)",
      });
    }
    const text = await response.text();
    let parsed: { error?: string; hint?: string | null } & Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // reported below with the status
    }
    if (response.ok) return parsed as T;
    if (response.status === 401)
      throw new UsageError(`the monitor at ${url} refused the bearer token`, {
        hint: `set ${TOKEN_ENV} to the token the monitor was started with`,
      });
    if (response.status === 403)
      throw new UsageError(`the monitor at ${url} has no token configured, so it accepts no changes`, {
        hint: `restart it with ${TOKEN_ENV} set in its environment`,
      });
    const code = response.status === 404 ? "NOT_FOUND" : response.status === 400 ? "USAGE" : "NETWORK";
    throw new CryptomlError(code, `${method} ${path}: ${parsed.error ?? `HTTP ${response.status}`}`, {
      ...(parsed.hint ? { hint: parsed.hint } : {}),
    });
  }
}
