import { describe, expect, it } from "vitest";
import { dataMetricsObserver } from "./data-metrics.js";
import { type CryptomlMetrics, createMetricsRegistry } from "./registry.js";

const registry = () => createMetricsRegistry({ command: "data import", version: "0", defaultMetrics: false });

/** The value of the exposition line `name{labels}`, undefined when there is none. */
async function sample(metrics: CryptomlMetrics, series: string): Promise<number | undefined> {
  const { body } = await metrics.exposition();
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("dataMetricsObserver", () => {
  it("counts candles per symbol and source and stamps the symbol's heartbeat from the clock", async () => {
    const metrics = registry();
    let now = 1_700_000_000_000;
    const observer = dataMetricsObserver(metrics, { clock: () => now });
    observer.candlesReceived("BTCUSDT", "binance-zip", 8928);
    now += 2500;
    observer.candlesReceived("BTCUSDT", "binance-zip", 8064);
    observer.candlesReceived("ETHUSDT", "bundled", 10);

    expect(await sample(metrics, 'cryptoml_data_candles_total{symbol="BTCUSDT",source="binance-zip"}')).toBe(
      16992,
    );
    expect(await sample(metrics, 'cryptoml_data_candles_total{symbol="ETHUSDT",source="bundled"}')).toBe(10);
    expect(await sample(metrics, 'cryptoml_data_last_update_timestamp_seconds{symbol="BTCUSDT"}')).toBe(
      1_700_000_002.5,
    );
  });

  it("leaves the heartbeat alone when a file brought no candles", async () => {
    const metrics = registry();
    const observer = dataMetricsObserver(metrics, { clock: () => 5000 });
    observer.candlesReceived("ADAUSDT", "json", 0);
    expect(await sample(metrics, 'cryptoml_data_candles_total{symbol="ADAUSDT",source="json"}')).toBe(0);
    expect(await sample(metrics, 'cryptoml_data_last_update_timestamp_seconds{symbol="ADAUSDT"}')).toBe(
      undefined,
    );
  });

  it("observes stage durations in the processing histogram, one series per stage", async () => {
    const metrics = registry();
    const observer = dataMetricsObserver(metrics);
    observer.stageTimed("parse", 0.002);
    observer.stageTimed("parse", 0.2);
    observer.stageTimed("store", 3);

    const parse = (suffix: string) => sample(metrics, `cryptoml_data_processing_seconds_${suffix}`);
    expect(await parse('count{stage="parse"}')).toBe(2);
    expect(await parse('sum{stage="parse"}')).toBeCloseTo(0.202, 12);
    expect(await parse('bucket{le="0.005",stage="parse"}')).toBe(1);
    expect(await parse('bucket{le="0.5",stage="parse"}')).toBe(2);
    expect(await parse('count{stage="store"}')).toBe(1);
    expect(await parse('count{stage="validate"}')).toBe(undefined);
  });

  it("counts store operations by store and operation", async () => {
    const metrics = registry();
    const observer = dataMetricsObserver(metrics);
    observer.storeOperation("arrow-file", "read");
    observer.storeOperation("arrow-file", "write");
    observer.storeOperation("arrow-file", "write");
    observer.storeOperation("memory", "list");

    const ops = (labels: string) => sample(metrics, `cryptoml_data_store_operations_total{${labels}}`);
    expect(await ops('store="arrow-file",operation="read"')).toBe(1);
    expect(await ops('store="arrow-file",operation="write"')).toBe(2);
    expect(await ops('store="memory",operation="list"')).toBe(1);
  });
});
