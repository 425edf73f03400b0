/**
 * The monitor's HTTP API as plain routes (served by src/monitoring/server.ts or any adapter):
 * list alerts and targets, acknowledge, silence. State-changing routes require the bearer token.
 */
import * as z from "zod";
import { isCryptomlError, UsageError } from "../../core/errors.js";
import type { Route, RouteResponse } from "../http-types.js";
import { durationMs } from "./labels.js";
import type { MonitorService } from "./service.js";

const json = (status: number, value: unknown): RouteResponse => ({
  status,
  body: `${JSON.stringify(value)}\n`,
});

const STATUS: Readonly<Record<string, number>> = { USAGE: 400, NOT_FOUND: 404, CONFIG_INVALID: 400 };

/** Runs a handler, turning its errors into `{error, hint}` with a status from the error's code. */
async function guarded(handler: () => RouteResponse | Promise<RouteResponse>): Promise<RouteResponse> {
  try {
    return await handler();
  } catch (error) {
    if (isCryptomlError(error))
      return json(STATUS[error.code] ?? 500, { error: error.message, hint: error.hint ?? null });
    return json(500, { error: error instanceof Error ? error.message : String(error), hint: null });
  }
}

// Alertmanager refuses a silence without matchers; one that matched everything would mute every alert.
const matchersSchema = z
  .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string())
  .refine((m) => Object.keys(m).length > 0, {
    error: 'must have at least one matcher, e.g. {"alertname": "DiskHigh"} (Alertmanager requires one)',
  });

const ackSchema = z.strictObject({
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{16}$/, "must be 16 hex digits")
    .optional(),
  matchers: matchersSchema.optional(),
  by: z.string().default("api"),
  comment: z.string().default(""),
});

const silenceSchema = z.strictObject({
  matchers: matchersSchema,
  /** Either a duration from now ("2h") or an ISO end time. */
  duration: z.string().optional(),
  endsAt: z.iso.datetime().optional(),
  startsAt: z.iso.datetime().optional(),
  comment: z.string().default(""),
  createdBy: z.string().default("api"),
});

/** Parses a JSON body with `schema`; a problem is a UsageError naming the field and rule. */
function readBody<T extends z.ZodType>(schema: T, body: string, example: string): z.output<T> {
  let value: unknown;
  try {
    value = body.trim() === "" ? {} : JSON.parse(body);
  } catch {
    throw new UsageError("the request body is not JSON", { hint: `send e.g. ${example}` });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
  throw new UsageError(`bad request body: ${problems.join("; ")}`, { hint: `send e.g. ${example}` });
}

function silenceEnd(request: z.output<typeof silenceSchema>, startsAtMs: number): number {
  if ((request.duration === undefined) === (request.endsAt === undefined))
    throw new UsageError("a silence needs either duration or endsAt", { hint: 'e.g. "duration": "2h"' });
  if (request.endsAt !== undefined) return Date.parse(request.endsAt);
  const ms = durationMs(request.duration ?? "");
  if (ms === undefined || ms === 0)
    throw new UsageError(`duration ${JSON.stringify(request.duration)} is not a positive duration`, {
      hint: 'use e.g. "30m", "2h" or "1d"',
    });
  return startsAtMs + ms;
}

/** The routes of `cryptoml monitor`'s API over `service`. `now` must be the service's clock. */
export function alertRoutes(service: MonitorService, now: () => number): Route[] {
  return [
    {
      method: "GET",
      path: "/api/alerts",
      requiresToken: false,
      handle: ({ url }) =>
        guarded(() => {
          const fp = url.searchParams.get("fingerprint");
          const alerts = service.alerts().filter((a) => fp === null || a.fingerprint === fp);
          return json(200, { alerts, targets: service.targets() });
        }),
    },
    {
      method: "GET",
      path: "/api/targets",
      requiresToken: false,
      handle: () => guarded(() => json(200, { targets: service.targets() })),
    },
    {
      method: "POST",
      path: "/api/alerts/ack",
      requiresToken: true,
      handle: ({ body }) =>
        guarded(() => {
          const request = readBody(
            ackSchema,
            body,
            '{"fingerprint": "0123456789abcdef", "comment": "on it"}',
          );
          const target = {
            ...(request.fingerprint === undefined ? {} : { fingerprint: request.fingerprint }),
            ...(request.matchers === undefined ? {} : { matchers: request.matchers }),
          };
          return json(200, { acknowledged: service.acknowledge(target, request.by, request.comment) });
        }),
    },
    {
      method: "GET",
      path: "/api/silences",
      requiresToken: false,
      handle: () => guarded(() => json(200, { silences: service.silences() })),
    },
    {
      method: "POST",
      path: "/api/silences",
      requiresToken: true,
      handle: ({ body }) =>
        guarded(() => {
          const request = readBody(
            silenceSchema,
            body,
            '{"matchers": {"alertname": "DiskHigh"}, "duration": "2h"}',
          );
          const startsAtMs = request.startsAt === undefined ? now() : Date.parse(request.startsAt);
          const silence = service.addSilence({
            matchers: request.matchers,
            startsAtMs,
            endsAtMs: silenceEnd(request, startsAtMs),
            comment: request.comment,
            createdBy: request.createdBy,
          });
          return json(201, { silence });
        }),
    },
    {
      method: "DELETE",
      path: "/api/silences",
      requiresToken: true,
      handle: ({ url }) =>
        guarded(() => {
          const id = url.searchParams.get("id");
          if (!id)
            throw new UsageError("DELETE /api/silences needs ?id=", {
              hint: "list ids with GET /api/silences",
            });
          return json(200, { silence: service.expireSilence(id) });
        }),
    },
  ];
}
