import { describe, expect, it } from "vitest";
import { TrackingError } from "./errors.js";
import {
  decodePageToken,
  encodePageToken,
  type FilterClause,
  matchesFilter,
  parseFilter,
  parseOrderBy,
  searchRunsInMemory,
} from "./search.js";
import type { Run, RunInfo, RunStatus } from "./types.js";

interface RunSpec {
  id: string;
  experimentId?: string;
  name?: string;
  status?: RunStatus;
  start?: number;
  end?: number;
  deleted?: boolean;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
}

function run(spec: RunSpec): Run {
  const info: RunInfo = {
    runId: spec.id,
    experimentId: spec.experimentId ?? "1",
    runName: spec.name ?? `run-${spec.id}`,
    userId: "alice",
    status: spec.status ?? "FINISHED",
    startTime: spec.start ?? 1000,
    ...(spec.end === undefined ? {} : { endTime: spec.end }),
    artifactUri: `file:///tmp/mlruns/1/${spec.id}/artifacts`,
    lifecycleStage: spec.deleted === true ? "deleted" : "active",
  };
  return {
    info,
    data: {
      metrics: Object.entries(spec.metrics ?? {}).map(([key, value]) => ({
        key,
        value,
        timestamp: 1,
        step: 0,
      })),
      params: Object.entries(spec.params ?? {}).map(([key, value]) => ({ key, value })),
      tags: Object.entries(spec.tags ?? {}).map(([key, value]) => ({ key, value })),
    },
  };
}

/** The INVALID_PARAMETER_VALUE error `fn` throws. */
function invalid(fn: () => unknown): TrackingError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TrackingError);
    expect((error as TrackingError).mlflowCode).toBe("INVALID_PARAMETER_VALUE");
    return error as TrackingError;
  }
  throw new Error("expected an INVALID_PARAMETER_VALUE error");
}

const ids = (runs: readonly Run[]): string[] => runs.map((r) => r.info.runId);

describe("parseFilter", () => {
  it("reads nothing from an empty or blank filter", () => {
    expect(parseFilter("")).toEqual([]);
    expect(parseFilter("   ")).toEqual([]);
  });

  it("reads comparisons joined by AND in any case", () => {
    expect(
      parseFilter(
        "metrics.val_loss < 0.5 and params.model = 'lstm' AND tags.symbol != \"ADA\" aNd attributes.status = 'FINISHED'",
      ),
    ).toEqual([
      { type: "numeric", entity: "metric", key: "val_loss", comparator: "<", value: 0.5 },
      { type: "string", entity: "param", key: "model", comparator: "=", value: "lstm" },
      { type: "string", entity: "tag", key: "symbol", comparator: "!=", value: "ADA" },
      { type: "string", entity: "attribute", key: "status", comparator: "=", value: "FINISHED" },
    ]);
  });

  it.each([
    ["metrics.a=1", { entity: "metric", key: "a", comparator: "=", value: 1 }],
    ["metrics.a != -2.5", { entity: "metric", key: "a", comparator: "!=", value: -2.5 }],
    ["metrics.a>1e-3", { entity: "metric", key: "a", comparator: ">", value: 0.001 }],
    ["metrics.a >= .5", { entity: "metric", key: "a", comparator: ">=", value: 0.5 }],
    ["metrics.a <= 10", { entity: "metric", key: "a", comparator: "<=", value: 10 }],
    ["metric.a < +3", { entity: "metric", key: "a", comparator: "<", value: 3 }],
    ["attributes.start_time >= 1700000000000", { entity: "attribute", key: "start_time", value: 1.7e12 }],
    ["attribute.end_time < 5", { entity: "attribute", key: "end_time", comparator: "<", value: 5 }],
    ["run.created > 5", { entity: "attribute", key: "start_time", value: 5 }],
    ["metrics.train.loss < 1", { entity: "metric", key: "train.loss" }],
    ["metrics.1h_return > 0", { entity: "metric", key: "1h_return", value: 0 }],
  ])("reads the numeric comparison %s", (text, expected) => {
    const [clause] = parseFilter(text);
    expect(clause).toMatchObject({ type: "numeric", ...expected });
  });

  it.each([
    ['metrics."val loss" < 1', "metric", "val loss"],
    ["metrics.`val loss` < 1", "metric", "val loss"],
    ["params.`my-key` = 'x'", "param", "my-key"],
    ['param."my.key" = "x"', "param", "my.key"],
    ["tags.'mlflow.runName' = 'x'", "tag", "mlflow.runName"],
    ["parameters.lr = 'x'", "param", "lr"],
    ["`params`.lr = 'x'", "param", "lr"],
    ["tag.symbol = 'x'", "tag", "symbol"],
    ["attr.run_name = 'x'", "attribute", "run_name"],
    ["attributes.`Run name` = 'x'", "attribute", "run_name"],
    ["status = 'x'", "attribute", "status"],
  ])("reads the identifier of %s", (text, entity, key) => {
    expect(parseFilter(text)[0]).toMatchObject({ entity, key });
  });

  it("reads LIKE, ILIKE, IN and NOT IN case-insensitively", () => {
    expect(parseFilter("params.model like 'ls%' and tags.s ILIKE '%ada'")).toMatchObject([
      { type: "string", comparator: "LIKE", value: "ls%" },
      { type: "string", comparator: "ILIKE", value: "%ada" },
    ]);
    expect(parseFilter("attributes.status in ('FINISHED', \"KILLED\") and run_id not  in ('a')")).toEqual([
      { type: "list", entity: "attribute", key: "status", comparator: "IN", values: ["FINISHED", "KILLED"] },
      { type: "list", entity: "attribute", key: "run_id", comparator: "NOT IN", values: ["a"] },
    ]);
  });

  it("reads escaped quotes in strings", () => {
    expect(
      parseFilter("params.a = 'it''s' and params.b = 'it\\'s' and params.c = \"say \"\"hi\"\"\""),
    ).toMatchObject([{ value: "it's" }, { value: "it's" }, { value: 'say "hi"' }]);
  });

  it("keeps keywords inside quoted values and keys", () => {
    expect(parseFilter("params.`a and b` = 'x or y'")).toEqual([
      { type: "string", entity: "param", key: "a and b", comparator: "=", value: "x or y" },
    ]);
  });

  it.each([
    ["metrics.a > 1 OR metrics.b > 2", /OR is not supported.*position 15/],
    ["metrics.a > 1 or metrics.b > 2", /OR is not supported/],
    [
      "params.model > 'a'",
      /Invalid comparator '>' for param 'model'; expected one of =, !=, LIKE, ILIKE at position 14/,
    ],
    ["tags.t < 'a'", /Invalid comparator '<' for tag 't'/],
    ["metrics.a LIKE '1'", /Invalid comparator 'LIKE' for metric 'a'; expected one of =, !=, >, >=, <, <=/],
    ["metrics.a IN ('1')", /Invalid comparator 'IN' for metric 'a'/],
    ["params.a IN ('1')", /Invalid comparator 'IN' for param 'a'/],
    ["attributes.status > 'a'", /Invalid comparator '>' for attribute 'status'.*IN, NOT IN/],
    ["attributes.start_time LIKE '1'", /Invalid comparator 'LIKE' for attribute 'start_time'/],
    ["metrics.a <> 1", /Invalid comparator '<>' for metric 'a'/],
    ["metrics.a == 1", /Invalid comparator '==' for metric 'a'/],
    ["metrics.a > '1'", /Expected a numeric value for metric 'a', found ''1'' at position 13/],
    ["metrics.a > abc", /Expected a numeric value for metric 'a', found 'abc'/],
    ["metrics.a > 1x", /Expected a numeric value/],
    ["attributes.start_time > 'now'", /Expected a numeric value for attribute 'start_time'/],
    ["params.lr = 0.1", /Expected a quoted string value for param 'lr' \(e\.g\. 'my-value'\), found '0\.1'/],
    ["params.lr = `x`", /Expected a quoted string value for param 'lr'/],
    ["params.lr = ", /Expected a quoted string value for param 'lr'.*found end of input/],
    ["params.lr = 'abc", /Unterminated string \(missing closing '\) at position 13/],
    [
      "foo.bar = 'x'",
      /Invalid entity type 'foo'. Valid values are metrics, params, tags, attributes at position 1/,
    ],
    ["datasets.name = 'x'", /Invalid entity type 'datasets'/],
    [
      "attributes.color = 'red'",
      /Invalid attribute key 'color'. Valid keys are run_id, .*end_time at position 12/,
    ],
    ["attributes.experiment_id = '1'", /Invalid attribute key 'experiment_id'/],
    ["colour = 'red'", /Invalid attribute key 'colour'/],
    ["metrics. < 1", /Expected a key after 'metrics.', found '<' at position 9/],
    ["params.my-key = 'x'", /Expected a comparator \(=, !=.*\) after param 'my', found '-key'/],
    ["metrics.a 1", /Expected a comparator/],
    ["metrics.a NOT LIKE 'x'", /Expected IN after NOT, found 'LIKE'/],
    ["metrics.a > 1 AND", /Expected a comparison after AND, found end of input/],
    [
      "metrics.a > 1 metrics.b > 2",
      /Expected AND or the end of the filter, found 'metrics.b' at position 15/,
    ],
    ["AND metrics.a > 1", /Invalid attribute key 'AND'/],
    ["(metrics.a > 1)", /Parentheses are not supported at position 1/],
    ["'x' = params.a", /Expected an identifier such as metrics.<key>.*found ''x''/],
    ["attributes.status IN 'FINISHED'", /Expected a parenthesized list after IN, found ''FINISHED''/],
    ["attributes.status IN ()", /Expected a non-empty list of quoted strings after IN/],
    [
      "attributes.status IN ('a', 1)",
      /Expected a quoted string in the list of quoted strings after IN, found '1\)'/,
    ],
    ["attributes.status IN ('a' 'b')", /Expected ',' or '\)' in the list, found ''b'\)' at position 27/],
    ["attributes.status IN ('a',", /Expected a quoted string in the list.*found end of input/],
  ])("rejects %s", (text, message) => {
    const error = invalid(() => parseFilter(text));
    expect(error.message).toMatch(message);
    expect(error.message).toContain(JSON.stringify(text));
  });

  it("tells how to fix what it rejects", () => {
    expect(invalid(() => parseFilter("metrics.a > 1 OR metrics.b > 2")).hint).toMatch(/IN \('a', 'b'\)/);
    expect(invalid(() => parseFilter("params.my-key = 'x'")).hint).toMatch(/Quote keys/);
    expect(invalid(() => parseFilter("params.lr = 0.1")).hint).toMatch(/params.lr = '0.001'/);
  });
});

describe("matchesFilter", () => {
  const r = run({
    id: "abc",
    status: "FINISHED",
    start: 100,
    end: 200,
    metrics: { val_loss: 0.4, "val loss": 2, nan: Number.NaN },
    params: { model: "LSTM_v2", lr: "0.001", "a.b": "x%y" },
    tags: { symbol: "ADAUSDT" },
  });
  const matches = (text: string): boolean => matchesFilter(r, parseFilter(text));

  it("compares metrics numerically", () => {
    expect(matches("metrics.val_loss < 0.5")).toBe(true);
    expect(matches("metrics.val_loss <= 0.4 and metrics.val_loss >= 0.4 and metrics.val_loss = 0.4")).toBe(
      true,
    );
    expect(matches("metrics.val_loss > 0.4")).toBe(false);
    expect(matches("metrics.val_loss != 0.4")).toBe(false);
    expect(matches('metrics."val loss" = 2')).toBe(true);
  });

  it("never matches a key the run lacks, not even with != or NOT IN", () => {
    expect(matches("metrics.missing != 1")).toBe(false);
    expect(matches("params.missing != 'x'")).toBe(false);
    expect(matches("tags.missing != 'x'")).toBe(false);
    expect(matchesFilter(run({ id: "r" }), parseFilter("attributes.end_time > 0"))).toBe(false);
  });

  it("compares NaN false except with !=", () => {
    expect(matches("metrics.nan < 1")).toBe(false);
    expect(matches("metrics.nan = 1")).toBe(false);
    expect(matches("metrics.nan != 1")).toBe(true);
  });

  it("uses the latest value of a metric logged more than once", () => {
    const logged: Run = {
      ...r,
      data: {
        ...r.data,
        metrics: [
          { key: "m", value: 5, timestamp: 9, step: 1 },
          { key: "m", value: 1, timestamp: 1, step: 2 },
          { key: "m", value: 3, timestamp: 0, step: 0 },
        ],
      },
    };
    expect(matchesFilter(logged, parseFilter("metrics.m = 1"))).toBe(true);
    expect(matchesFilter(logged, parseFilter("metrics.m = 5"))).toBe(false);
  });

  it("compares params, tags and attributes as exact strings", () => {
    expect(matches("params.lr = '0.001'")).toBe(true);
    expect(matches("params.lr = '0.0010'")).toBe(false);
    expect(matches("params.model = 'lstm_v2'")).toBe(false);
    expect(matches("tags.symbol != 'BTCUSDT' and attributes.status = 'FINISHED'")).toBe(true);
    expect(matches("attributes.run_id = 'abc' and attributes.user_id = 'alice'")).toBe(true);
    expect(matches("attributes.lifecycle_stage = 'active' and attributes.run_name = 'run-abc'")).toBe(true);
    expect(matches("attributes.artifact_uri LIKE 'file:///tmp/mlruns/%'")).toBe(true);
  });

  it.each([
    ["params.model LIKE 'LSTM%'", true],
    ["params.model LIKE 'lstm%'", false],
    ["params.model ILIKE 'lstm%'", true],
    ["params.model LIKE '%v2'", true],
    ["params.model LIKE '%_v_'", true],
    ["params.model LIKE 'LSTM_v'", false],
    ["params.model LIKE 'LSTM_v_'", true],
    ["params.model LIKE 'LSTM'", false],
    ["params.model LIKE '%'", true],
    ["params.model ILIKE '%STM%'", true],
    ["params.lr LIKE '0.00_'", true],
    ["params.lr LIKE '0_001'", true],
    ["params.lr LIKE '0.0.1'", false],
    ["params.`a.b` LIKE 'x%'", true],
    ["params.`a.b` LIKE 'x(y'", false],
    ["tags.symbol ILIKE 'ada%'", true],
    ["attributes.status ILIKE 'fin%'", true],
    ["attributes.run_name LIKE 'run-[a-z]*'", false],
  ])("applies %s → %s", (text, expected) => {
    expect(matches(text)).toBe(expected);
  });

  it("matches LIKE across newlines and regex metacharacters literally", () => {
    const multi = run({ id: "m", params: { p: "a\nb", q: "(x)+[y]" } });
    expect(matchesFilter(multi, parseFilter("params.p LIKE 'a%b'"))).toBe(true);
    expect(matchesFilter(multi, parseFilter("params.p LIKE 'a_b'"))).toBe(true);
    expect(matchesFilter(multi, parseFilter("params.q = '(x)+[y]' and params.q LIKE '(x)+[y]'"))).toBe(true);
  });

  it("applies IN and NOT IN to attributes", () => {
    expect(matches("attributes.status IN ('FAILED', 'FINISHED')")).toBe(true);
    expect(matches("attributes.status NOT IN ('FAILED', 'FINISHED')")).toBe(false);
    expect(matches("attributes.run_id IN ('xyz')")).toBe(false);
    expect(matches("attributes.run_id NOT IN ('xyz')")).toBe(true);
  });

  it("compares numeric attributes", () => {
    expect(matches("attributes.start_time >= 100 and attributes.end_time = 200 and created < 101")).toBe(
      true,
    );
    expect(matches("attributes.start_time > 100")).toBe(false);
  });

  it("matches every run with no clauses", () => {
    const none: FilterClause[] = [];
    expect(matchesFilter(r, none)).toBe(true);
  });
});

describe("parseOrderBy", () => {
  it.each([
    ["metrics.val_loss", { entity: "metric", key: "val_loss", ascending: true }],
    ["metrics.val_loss ASC", { entity: "metric", key: "val_loss", ascending: true }],
    ["metrics.val_loss desc", { entity: "metric", key: "val_loss", ascending: false }],
    ['metrics."val loss" DESC', { entity: "metric", key: "val loss", ascending: false }],
    ["params.`my-key` Desc", { entity: "param", key: "my-key", ascending: false }],
    ["tags.symbol", { entity: "tag", key: "symbol", ascending: true }],
    ["attributes.start_time DESC", { entity: "attribute", key: "start_time", ascending: false }],
    ["start_time", { entity: "attribute", key: "start_time", ascending: true }],
    ["attribute.experiment_id", { entity: "attribute", key: "experiment_id", ascending: true }],
    ["  run.created   asc ", { entity: "attribute", key: "start_time", ascending: true }],
  ])("reads %s", (text, expected) => {
    expect(parseOrderBy([text])).toEqual([expected]);
  });

  it.each([
    [
      "metrics.a UP",
      /Invalid ordering key 'UP'; expected ASC or DESC at position 11 of order_by "metrics.a UP"/,
    ],
    ["metrics.a ASC DESC", /Expected the end of the order_by clause, found 'DESC'/],
    ["", /Expected an order_by key such as metrics.val_loss DESC, found end of input/],
    ["foo.a", /Invalid entity type 'foo'/],
    ["attributes.colour", /Invalid attribute key 'colour'/],
    ["metrics.", /Expected a key after 'metrics.'/],
    ["metrics.a, metrics.b", /Invalid ordering key ','/],
  ])("rejects %s", (text, message) => {
    expect(invalid(() => parseOrderBy([text])).message).toMatch(message);
  });
});

describe("searchRunsInMemory", () => {
  const runs = [
    run({ id: "a", start: 10, metrics: { loss: 0.3 }, params: { model: "lstm" } }),
    run({ id: "b", start: 30, metrics: { loss: 0.1 }, params: { model: "gru" } }),
    run({ id: "c", start: 20, params: { model: "lstm" } }),
    run({ id: "d", start: 30, metrics: { loss: Number.NaN } }),
    run({ id: "e", start: 40, metrics: { loss: 0.2 }, deleted: true }),
    run({ id: "f", start: 50, metrics: { loss: 0.05 }, experimentId: "2" }),
  ];
  const search = (query: Partial<Parameters<typeof searchRunsInMemory>[1]> = {}) =>
    searchRunsInMemory(runs, { experimentIds: ["1"], ...query });

  it("orders by start_time DESC then run_id by default, active runs of the experiments only", () => {
    const page = search();
    expect(ids(page.items)).toEqual(["b", "d", "c", "a"]);
    expect(page.nextPageToken).toBeUndefined();
  });

  it("selects by experiment and lifecycle", () => {
    expect(ids(search({ includeDeleted: true }).items)).toEqual(["e", "b", "d", "c", "a"]);
    expect(ids(search({ experimentIds: ["1", "2"] }).items)).toEqual(["f", "b", "d", "c", "a"]);
    expect(search({ experimentIds: [] }).items).toEqual([]);
  });

  it("filters", () => {
    expect(ids(search({ filter: "params.model = 'lstm'" }).items)).toEqual(["c", "a"]);
    expect(ids(search({ filter: "metrics.loss < 0.25" }).items)).toEqual(["b"]);
  });

  it("puts runs missing the key (and NaN before them) last in either direction", () => {
    expect(ids(search({ orderBy: ["metrics.loss ASC"] }).items)).toEqual(["b", "a", "d", "c"]);
    expect(ids(search({ orderBy: ["metrics.loss DESC"] }).items)).toEqual(["a", "b", "d", "c"]);
    expect(ids(search({ orderBy: ["params.model DESC"] }).items)).toEqual(["c", "a", "b", "d"]);
    expect(ids(search({ orderBy: ["params.model"] }).items)).toEqual(["b", "c", "a", "d"]);
  });

  it("breaks ties with the next key, then start_time DESC and run_id", () => {
    expect(ids(search({ orderBy: ["params.model", "attributes.start_time ASC"] }).items)).toEqual([
      "b",
      "a",
      "c",
      "d",
    ]);
    expect(ids(search({ orderBy: ["attributes.status"] }).items)).toEqual(["b", "d", "c", "a"]);
    expect(ids(search({ orderBy: ["attributes.run_id DESC"] }).items)).toEqual(["d", "c", "b", "a"]);
  });

  it("pages through every run exactly once", () => {
    const many = Array.from({ length: 25 }, (_, i) =>
      run({ id: `r${String(i).padStart(2, "0")}`, start: i % 7 }),
    );
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = searchRunsInMemory(many, {
        experimentIds: ["1"],
        maxResults: 10,
        ...(pageToken ? { pageToken } : {}),
      });
      seen.push(...ids(page.items));
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids(searchRunsInMemory(many, { experimentIds: ["1"] }).items));
    expect(new Set(seen).size).toBe(25);
  });

  it("gives no next token when the last page is exactly full", () => {
    expect(search({ maxResults: 4 }).nextPageToken).toBeUndefined();
    const first = search({ maxResults: 2 });
    expect(ids(first.items)).toEqual(["b", "d"]);
    const second = search({ maxResults: 2, pageToken: first.nextPageToken });
    expect(ids(second.items)).toEqual(["c", "a"]);
    expect(second.nextPageToken).toBeUndefined();
  });

  it("returns an empty page past the end", () => {
    expect(search({ pageToken: encodePageToken(100) })).toEqual({ items: [] });
  });

  it("issues MLflow's page tokens", () => {
    expect(encodePageToken(1000)).toBe(Buffer.from('{"offset": 1000}').toString("base64"));
    expect(decodePageToken(encodePageToken(42))).toBe(42);
    expect(decodePageToken(Buffer.from('{"offset":7}').toString("base64"))).toBe(7);
    expect(decodePageToken(undefined)).toBe(0);
    expect(decodePageToken("")).toBe(0);
  });

  it.each([
    ["not base64!", /Invalid page token 'not base64!': it is not base64/],
    [Buffer.from("nope").toString("base64"), /does not decode to JSON/],
    [Buffer.from('{"offset": -1}').toString("base64"), /holds no valid offset/],
    [Buffer.from('{"offset": 1.5}').toString("base64"), /holds no valid offset/],
    [Buffer.from('{"offset": "3"}').toString("base64"), /holds no valid offset/],
    [Buffer.from("[3]").toString("base64"), /holds no valid offset/],
    [Buffer.from("null").toString("base64"), /holds no valid offset/],
  ])("rejects the page token %s", (pageToken, message) => {
    const error = invalid(() => search({ pageToken }));
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/nextPageToken/);
  });

  it.each([0, -1, 50_001, 1.5, Number.NaN])("rejects maxResults=%s", (maxResults) => {
    expect(invalid(() => search({ maxResults })).message).toMatch(
      /maxResults: it must be an integer from 1 to 50000/,
    );
  });

  it("accepts maxResults at the limits", () => {
    expect(search({ maxResults: 1 }).items).toHaveLength(1);
    expect(search({ maxResults: 50_000 }).items).toHaveLength(4);
  });

  it("rejects a bad filter or order even with no runs to search", () => {
    expect(
      invalid(() => searchRunsInMemory([], { experimentIds: ["1"], filter: "metrics.a > 'x'" })).message,
    ).toMatch(/Expected a numeric value/);
    expect(
      invalid(() => searchRunsInMemory([], { experimentIds: ["1"], orderBy: ["metrics.a sideways"] }))
        .message,
    ).toMatch(/Invalid ordering key/);
  });
});
