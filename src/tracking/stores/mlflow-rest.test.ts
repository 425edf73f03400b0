/**
 * MlflowRestStore without a server: the wire mapping and the error mapping, through an injected fetch.
 * The store against a real `mlflow server` is in test/integration/tracking-contract.test.ts.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { isTransient, TrackingError } from "../errors.js";
import { MlflowRestStore } from "./mlflow-rest.js";
import { proxyRoot } from "./mlflow-rest-artifacts.js";
import type { FetchLike } from "./mlflow-rest-http.js";

interface Seen {
  url: string;
  method: string;
  body: unknown;
}

function fakeFetch(answer: (seen: Seen) => Response | Promise<Response>): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch: FetchLike = async (url, init) => {
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : init?.body;
    const request = { url, method: init?.method ?? "GET", body };
    seen.push(request);
    return answer(request);
  };
  return { fetch, seen };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

async function rejection(promise: Promise<unknown>): Promise<TrackingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrackingError);
  return error as TrackingError;
}

describe("MlflowRestStore wire mapping", () => {
  it("reads int64 fields sent as strings and non-finite metric values", async () => {
    const { fetch, seen } = fakeFetch(() =>
      json({
        run: {
          info: {
            run_id: "r1",
            experiment_id: "3",
            run_name: "n",
            status: "FINISHED",
            start_time: "1700000000000",
            end_time: "1700000001000",
            artifact_uri: "mlflow-artifacts:/3/r1/artifacts",
            lifecycle_stage: "active",
          },
          data: {
            metrics: [
              { key: "a", value: "NaN", timestamp: "5", step: "2" },
              { key: "b", value: "-Infinity", timestamp: 6 },
            ],
            params: [{ key: "p", value: "1" }],
          },
        },
      }),
    );
    const run = await new MlflowRestStore("http://mlflow:5000/", { fetch }).getRun("r1");
    expect(seen[0]?.url).toBe("http://mlflow:5000/api/2.0/mlflow/runs/get?run_id=r1");
    expect(run.info).toMatchObject({
      startTime: 1_700_000_000_000,
      endTime: 1_700_000_001_000,
      status: "FINISHED",
    });
    expect(run.data.metrics[0]).toMatchObject({ key: "a", timestamp: 5, step: 2 });
    expect(run.data.metrics[0]?.value).toBeNaN();
    expect(run.data.metrics[1]).toEqual({ key: "b", value: Number.NEGATIVE_INFINITY, timestamp: 6, step: 0 });
    expect(run.data.tags).toEqual([]);
  });

  it("sends NaN and infinite metric values as protobuf-JSON strings", async () => {
    const { fetch, seen } = fakeFetch(() => json({}));
    await new MlflowRestStore("http://mlflow:5000", { fetch }).logBatch("r1", {
      metrics: [
        { key: "a", value: Number.NaN, timestamp: 1, step: 0 },
        { key: "b", value: Number.POSITIVE_INFINITY, timestamp: 1, step: 0 },
      ],
      params: [],
      tags: [],
    });
    expect(seen[0]?.body).toMatchObject({
      run_id: "r1",
      metrics: [
        { key: "a", value: "NaN" },
        { key: "b", value: "Infinity" },
      ],
    });
  });

  it("derives the proxy path from every form of run artifact URI", () => {
    expect(proxyRoot("mlflow-artifacts:/1/abc/artifacts", "u")).toBe("1/abc/artifacts");
    expect(proxyRoot("mlflow-artifacts://host:5000/1/abc/artifacts/", "u")).toBe("1/abc/artifacts");
    expect(proxyRoot("http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts", "u")).toBe(
      "1/abc/artifacts",
    );
    expect(() => proxyRoot("/srv/mlruns/1/abc/artifacts", "http://h:5000")).toThrow(/artifact proxy/);
  });
});

describe("MlflowRestStore error mapping", () => {
  it("keeps MLflow's error code and message", async () => {
    const { fetch } = fakeFetch(() =>
      json({ error_code: "RESOURCE_ALREADY_EXISTS", message: "exists" }, 400),
    );
    const error = await rejection(new MlflowRestStore("http://mlflow:5000", { fetch }).createExperiment("x"));
    expect(error.mlflowCode).toBe("RESOURCE_ALREADY_EXISTS");
    expect(error.message).toContain("exists");
    expect(isTransient(error)).toBe(false);
  });

  it("treats 502-504 as temporarily unavailable", async () => {
    for (const status of [502, 503, 504]) {
      const { fetch } = fakeFetch(() => new Response("upstream down", { status }));
      const error = await rejection(new MlflowRestStore("http://mlflow:5000", { fetch }).getRun("r"));
      expect(error.mlflowCode).toBe("TEMPORARILY_UNAVAILABLE");
      expect(isTransient(error)).toBe(true);
      expect(error.hint).toContain("http://mlflow:5000");
    }
  });

  it("times out a server that does not answer", async () => {
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    const error = await rejection(
      new MlflowRestStore("http://mlflow:5000", { fetch, timeoutMs: 50 }).getRun("r"),
    );
    expect(error.mlflowCode).toBe("TEMPORARILY_UNAVAILABLE");
    expect(error.message).toContain("timed out after 50 ms");
    expect(isTransient(error)).toBe(true);
  });

  it("reports a refused connection as temporarily unavailable, naming the URI", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });
    const uri = `http://127.0.0.1:${port}`;
    const error = await rejection(new MlflowRestStore(uri).getExperiment("0"));
    expect(error.mlflowCode).toBe("TEMPORARILY_UNAVAILABLE");
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.hint).toContain(uri);
    expect(isTransient(error)).toBe(true);
  });

  it("maps a 404 without an MLflow body to RESOURCE_DOES_NOT_EXIST", async () => {
    const { fetch } = fakeFetch(() => new Response("<html>Not Found</html>", { status: 404 }));
    const error = await rejection(
      new MlflowRestStore("http://mlflow:5000", { fetch }).getRegisteredModel("m"),
    );
    expect(error.mlflowCode).toBe("RESOURCE_DOES_NOT_EXIST");
  });
});
