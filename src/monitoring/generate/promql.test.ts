import { describe, expect, it } from "vitest";
import { catalogMetricOf, conditionToPromQL, metricNames, promDuration, seriesSelector } from "./promql.js";

describe("conditionToPromQL", () => {
  it("writes each condition kind as documented in rules/types.ts", () => {
    expect(conditionToPromQL({ kind: "threshold", metric: "m", op: ">=", value: 0.9 })).toBe("m >= 0.9");
    expect(conditionToPromQL({ kind: "not_finite", metric: "m", labels: { a: "x" } })).toBe(
      'm{a="x"} != m{a="x"} or abs(m{a="x"}) == +Inf',
    );
    expect(conditionToPromQL({ kind: "stale", metric: "m", seconds: 600 })).toBe("time() - m > 600");
    expect(
      conditionToPromQL({
        kind: "window",
        metric: "m",
        labels: { split: "val" },
        fn: "avg",
        windowMs: 1_800_000,
        op: "<",
        factor: 0.5,
      }),
    ).toBe('m{split="val"} < 0.5 * avg_over_time(m{split="val"}[30m])');
  });

  it("escapes label values as PromQL strings", () => {
    expect(seriesSelector("m", { path: 'C:\\runs "x"' })).toBe('m{path="C:\\\\runs \\"x\\""}');
  });
});

describe("promDuration", () => {
  it("uses the largest exact units", () => {
    expect(promDuration(0)).toBe("0s");
    expect(promDuration(90_000)).toBe("1m30s");
    expect(promDuration(3_900_000)).toBe("1h5m");
    expect(promDuration(86_400_000)).toBe("1d");
    expect(promDuration(1500)).toBe("1s500ms");
  });

  it("rejects negative or fractional milliseconds", () => {
    expect(() => promDuration(-1)).toThrow(RangeError);
    expect(() => promDuration(0.5)).toThrow(RangeError);
  });
});

describe("metricNames", () => {
  it("finds selected metrics and skips functions, keywords, labels, strings and variables", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, stage) (rate(cryptoml_data_processing_seconds_bucket{stage=~"$stage"}[$__rate_interval])))',
      ),
    ).toEqual(["cryptoml_data_processing_seconds_bucket"]);
    expect(metricNames("a_total / on (job) group_left (x) b or c unless d and time() - e offset 5m")).toEqual(
      ["a_total", "b", "c", "d", "e"],
    );
    expect(metricNames('max(time() - m{s="rate(x)"}) > bool 1e3 * Inf')).toEqual(["m"]);
  });

  it("reads Grafana's label_values(metric, label)", () => {
    expect(metricNames("label_values(cryptoml_trading_pnl, strategy)")).toEqual(["cryptoml_trading_pnl"]);
  });
});

describe("catalogMetricOf", () => {
  it("maps histogram series to their histogram and rejects unknown names", () => {
    expect(catalogMetricOf("cryptoml_training_loss")?.name).toBe("cryptoml_training_loss");
    expect(catalogMetricOf("cryptoml_data_processing_seconds_count")?.name).toBe(
      "cryptoml_data_processing_seconds",
    );
    expect(catalogMetricOf("cryptoml_training_loss_count")).toBeUndefined();
    expect(catalogMetricOf("cryptoml_nope")).toBeUndefined();
  });
});
