import { describe, expect, it } from "vitest";
import { DataFormatError } from "../../core/errors.js";
import { parseExposition } from "./exposition.js";

const SOURCE = "http://127.0.0.1:9464/metrics";

describe("parseExposition", () => {
  it("reads comments, HELP, TYPE, labels, special values and timestamps", () => {
    const text = [
      "# HELP cryptoml_training_step_loss Training loss of the last step.",
      "# TYPE cryptoml_training_step_loss gauge",
      "# just a comment",
      'cryptoml_training_step_loss{symbol="BTCUSDT",model="lstm"} NaN',
      'cryptoml_training_step_loss{symbol="ETHUSDT",model="gru",} +Inf 1700000000000',
      'cryptoml_training_step_loss{symbol="ADAUSDT", model="cnn"} -Inf',
      "process_cpu_seconds_total 12.5e-1",
      "",
      'odd{path="C:\\\\data\\\\x",quote="say \\"hi\\"",nl="a\\nb"} -3',
    ].join("\n");
    const samples = parseExposition(text, SOURCE);
    expect(samples).toHaveLength(5);
    expect(samples[0]?.labels).toEqual({ symbol: "BTCUSDT", model: "lstm" });
    expect(Number.isNaN(samples[0]?.value)).toBe(true);
    expect(samples[1]).toEqual({
      name: "cryptoml_training_step_loss",
      labels: { symbol: "ETHUSDT", model: "gru" },
      value: Number.POSITIVE_INFINITY,
      timestampMs: 1_700_000_000_000,
    });
    expect(samples[2]?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(samples[3]).toEqual({ name: "process_cpu_seconds_total", labels: {}, value: 1.25 });
    expect(samples[4]?.labels).toEqual({ path: "C:\\data\\x", quote: 'say "hi"', nl: "a\nb" });
    expect(samples[4]?.value).toBe(-3);
  });

  it("accepts CRLF line ends and blank lines", () => {
    expect(parseExposition("a 1\r\n\r\nb 2\r\n", SOURCE).map((s) => s.value)).toEqual([1, 2]);
  });

  it.each([
    ["a{x=1} 1", 'expected ="…" after label x'],
    ['a{x="1} 1', "no closing quote"],
    ['a{x="\\t"} 1', "escape \\t"],
    ["a one", 'value "one" must be a number'],
    ["a 1 12.5", "timestamp"],
    ["a 1 2 3", "unexpected"],
    ["1a 1", "expected a metric name"],
    ['a{x="1" y="2"} 1', "expected , or }"],
    ['a{x="1",x="2"} 1', "label x appears twice"],
    ["# TYPE a gauges", "must be one of"],
    ["# TYPE a gauge\n# TYPE a counter", "second # TYPE"],
    ["a 1\na 2", "appears twice"],
    ["a", "expected a space and a value"],
  ])("rejects %j naming the target and line", (text, problem) => {
    const lines = text.split("\n").length;
    const error = (() => {
      try {
        parseExposition(`# HELP ok fine\n${text}`, SOURCE);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DataFormatError);
    const message = (error as Error).message;
    expect(message).toContain(problem);
    expect(message.startsWith(`${SOURCE}:${lines + 1}:`)).toBe(true);
  });
});
