import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ResolvedConfig } from "../../config/index.js";
import type { Exporter } from "../../monitoring/exporter.js";
import { createSnapshot } from "../../training/callbacks/types.js";
import type { CliContext } from "../context.js";
import { serveTuneMetrics } from "./tune-metrics.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(storage?: string): Promise<{
  exporter: Exporter;
  hooks: Awaited<ReturnType<typeof serveTuneMetrics>>["hooks"];
}> {
  const dir = await mkdtemp(join(tmpdir(), "cryptoml-tune-metrics-unit-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const ctx: CliContext = {
    configDir: dir,
    verbose: false,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    env: {},
    interactive: false,
  };
  // serveTuneMetrics reads only these two sections of the configuration.
  const config = {
    monitoring: { host: "127.0.0.1", port: 0 },
    data: { store_dir: dir },
  } as unknown as ResolvedConfig;
  const { exporter, hooks } = await serveTuneMetrics(
    ctx,
    { metricsPort: "0", ...(storage === undefined ? {} : { storage }) },
    config,
    () => {},
  );
  if (exporter === undefined) throw new Error("the exporter did not start");
  cleanups.push(() => exporter.close());
  return { exporter, hooks };
}

describe("serveTuneMetrics", () => {
  it("counts a diverged trial's NaN event without a non-finite step loss, and drops its heartbeat", async () => {
    const { exporter, hooks } = await serve();
    const trial = hooks.monitor?.({
      key: "BTCUSDT",
      model: "lstm",
      symbols: ["BTCUSDT"],
      batchSize: 4,
      trainRows: 8,
    });
    if (trial === undefined) throw new Error("tune exports no training monitor");
    const snapshot = (step: number, loss: number) =>
      createSnapshot({
        epoch: 0,
        step,
        positionInEpoch: step,
        metrics: { loss },
        learningRate: 0.1,
        elapsedMs: step * 10,
      });
    for (const callback of trial.callbacks) {
      callback.onFitStart?.(snapshot(0, 0));
      callback.onStepEnd?.(snapshot(1, 0.7));
    }
    trial.observer.nonFinite?.(Number.NaN, Number.NaN);
    trial.finished("diverged", "non-finite loss (NaN) at epoch 0, batch 1 (step 2)");

    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    const labels = 'symbol="BTCUSDT",model="lstm"';
    expect(body).toContain(`cryptoml_training_nan_events_total{${labels}} 1`);
    expect(body).toContain(`cryptoml_training_step_loss{${labels}} 0.7`);
    expect(body).not.toMatch(/^cryptoml_training_last_step_timestamp_seconds\{/m);
  });

  it("asks the study's Redis in /ready when the study is on Redis", async () => {
    const checks = async (storage: string) => {
      const { exporter } = await serve(storage);
      const ready = (await (await fetch(`${exporter.url}/ready`)).json()) as {
        checks: { name: string; ok: boolean }[];
      };
      return ready.checks;
    };
    expect((await checks("redis://127.0.0.1:6379/0?prefix=t")).find((c) => c.name === "redis")?.ok).toBe(
      true,
    );
    expect((await checks("redis://127.0.0.1:1")).find((c) => c.name === "redis")?.ok).toBe(false);
    expect((await checks("journal:studies.log")).map((c) => c.name)).toEqual(["training"]);
  });
});
