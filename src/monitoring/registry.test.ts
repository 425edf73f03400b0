import { register as globalRegistry } from "prom-client";
import { describe, expect, it } from "vitest";
import { METRICS } from "./catalog.js";
import { createMetricsRegistry, wantsOpenMetrics } from "./registry.js";

describe("createMetricsRegistry", () => {
  it("registers exactly the catalog's metrics plus default process metrics, never on the global registry", async () => {
    const before = globalRegistry.getMetricsAsArray().length;
    const metrics = createMetricsRegistry({ command: "train", version: "1.2.3" });
    const names = metrics.registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name);
    const cryptoml = names.filter((n) => n.startsWith("cryptoml_")).sort();
    expect(cryptoml).toEqual(METRICS.map((m) => m.name).sort());
    expect(names.filter((n) => !n.startsWith("cryptoml_")).every((n) => /^(process|nodejs)_/.test(n))).toBe(
      true,
    );
    expect(names).toContain("process_resident_memory_bytes");
    expect(globalRegistry.getMetricsAsArray().length).toBe(before);
    const { body } = await metrics.exposition();
    expect(body).toContain('cryptoml_build_info{version="1.2.3",command="train"} 1');
  });

  it("uses the catalog's help, labels and histogram buckets", async () => {
    const metrics = createMetricsRegistry({ command: "data", version: "0", defaultMetrics: false });
    metrics.histogram("cryptoml_data_processing_seconds").observe({ stage: "parse" }, 20);
    const { body } = await metrics.exposition();
    expect(body).toContain("# HELP cryptoml_data_processing_seconds Processing latency per stage");
    expect(body).toContain('cryptoml_data_processing_seconds_bucket{le="5",stage="parse"} 0');
    expect(body).toContain('cryptoml_data_processing_seconds_bucket{le="30",stage="parse"} 1');
    expect(body).toContain("# TYPE cryptoml_data_processing_seconds histogram");
  });

  it("renders OpenMetrics with counters under their family name, and text 0.0.4 after it unchanged", async () => {
    const metrics = createMetricsRegistry({ command: "data", version: "0", defaultMetrics: false });
    metrics.counter("cryptoml_data_candles_total").inc({ symbol: "ETHUSDT", source: "binance" }, 2);
    metrics.histogram("cryptoml_data_processing_seconds").observe({ stage: "parse" }, 0.002);
    const open = await metrics.exposition("application/openmetrics-text; version=1.0.0");
    expect(open.contentType).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect(open.body).toContain("# TYPE cryptoml_data_candles counter");
    expect(open.body).toContain('cryptoml_data_candles_total{symbol="ETHUSDT",source="binance"} 2');
    expect(open.body).toContain('cryptoml_data_processing_seconds_bucket{le="0.005",stage="parse"} 1');
    const text = await metrics.exposition("text/plain");
    expect(text.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(text.body).toContain("# TYPE cryptoml_data_candles_total counter");
    expect(text.body).not.toContain("# EOF");
  });

  it("runs a collect hook once per scrape for all the metrics it fills, and detaches", async () => {
    const metrics = createMetricsRegistry({ command: "x", version: "0", defaultMetrics: false });
    let runs = 0;
    const detach = metrics.onCollect(
      ["cryptoml_system_memory_used_bytes", "cryptoml_system_memory_total_bytes"],
      async () => {
        runs += 1;
        metrics.gauge("cryptoml_system_memory_used_bytes").set(runs);
        metrics.gauge("cryptoml_system_memory_total_bytes").set(runs * 10);
      },
    );
    const first = await metrics.exposition();
    expect(runs).toBe(1);
    expect(first.body).toContain("cryptoml_system_memory_used_bytes 1\n");
    expect(first.body).toContain("cryptoml_system_memory_total_bytes 10\n");
    await metrics.exposition();
    expect(runs).toBe(2);
    detach();
    await metrics.exposition();
    expect(runs).toBe(2);
  });
});

describe("wantsOpenMetrics", () => {
  it("recognises Prometheus' Accept header and defaults to text", () => {
    expect(
      wantsOpenMetrics("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"),
    ).toBe(true);
    expect(wantsOpenMetrics("text/plain")).toBe(false);
    expect(wantsOpenMetrics(undefined)).toBe(false);
  });
});
