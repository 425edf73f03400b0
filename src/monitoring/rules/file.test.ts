import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../core/errors.js";
import { DEFAULT_LEVELS, DEFAULT_RULES } from "./defaults.js";
import { builtInRules, loadRulesFile, parseRulesFile } from "./file.js";

const F = "rules.yaml";

function problems(text: string): string[] {
  try {
    parseRulesFile(F, text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected the rules file to be rejected");
}

describe("parseRulesFile", () => {
  it("changes a built-in rule by name, disables one and adds a new one", () => {
    const rules = parseRulesFile(
      F,
      [
        "rules:",
        "  - name: DiskHigh",
        "    condition: { value: 0.95 }",
        "    for: 10m",
        "  - name: DrawdownBeyondLimit",
        "    disabled: true",
        "  - name: BtcValLossHigh",
        "    condition:",
        "      kind: threshold",
        "      metric: cryptoml_training_loss",
        "      labels: { symbol: BTCUSDT, split: val }",
        '      op: ">"',
        "      value: 2",
        "    for: 1h30m",
        "    summary: Validation loss of {{symbol}} is over 2",
        "    description: Check the data.",
        "    levels:",
        "      - { severity: warning, after: 0s, receivers: [log], repeat: 1h }",
        "      - { severity: page, after: 30m, receivers: [log, webhook], repeat: 10m }",
      ].join("\n"),
    );
    const disk = rules.find((r) => r.name === "DiskHigh");
    expect(disk?.condition).toEqual({
      kind: "threshold",
      metric: "cryptoml_system_disk_utilization_ratio",
      op: ">",
      value: 0.95,
    });
    expect(disk?.forMs).toBe(600_000);
    expect(rules.some((r) => r.name === "DrawdownBeyondLimit")).toBe(false);
    const added = rules.at(-1);
    expect(added).toMatchObject({ name: "BtcValLossHigh", forMs: 5_400_000 });
    expect(added?.levels).toEqual([
      { severity: "warning", afterMs: 0, receivers: ["log"], repeatMs: 3_600_000 },
      { severity: "page", afterMs: 1_800_000, receivers: ["log", "webhook"], repeatMs: 600_000 },
    ]);
    expect(rules).toHaveLength(DEFAULT_RULES.length);
  });

  it("changes a window rule's window and keeps the rest", () => {
    const [rule] = parseRulesFile(
      F,
      "rules:\n  - name: TrainingLossDiverging\n    condition: { window: 2h, factor: 5 }\n",
    ).filter((r) => r.name === "TrainingLossDiverging");
    expect(rule?.condition).toMatchObject({
      kind: "window",
      fn: "min",
      windowMs: 7_200_000,
      factor: 5,
      labels: { split: "val" },
    });
  });

  it("an empty file means the built-in rules", () => {
    expect(parseRulesFile(F, "")).toEqual(builtInRules());
  });

  it("rules may read up (synthesised by the scraper) narrowed by job, with == and !=", () => {
    const rules = parseRulesFile(
      F,
      [
        "rules:",
        "  - name: TargetDown",
        "    for: 3m",
        "  - name: Flapping",
        '    condition: { kind: threshold, metric: up, labels: { job: cryptoml }, op: "!=", value: 1 }',
        "    summary: s",
        "    description: d",
      ].join("\n"),
    );
    expect(rules.find((r) => r.name === "TargetDown")).toMatchObject({
      forMs: 180_000,
      condition: { metric: "up", labels: { job: "cryptoml" }, op: "==", value: 0 },
    });
    expect(rules.find((r) => r.name === "Flapping")?.condition).toMatchObject({ metric: "up", op: "!=" });
    expect(
      problems(
        "rules:\n  - name: X\n    condition: { kind: not_finite, metric: up, labels: { symbol: a } }\n    summary: s\n    description: d\n",
      ),
    ).toEqual([
      expect.stringContaining(
        "rules[0].condition.labels.symbol: up has no label symbol (it has job, instance)",
      ),
    ]);
  });

  it("default levels replace the standard ladder, not a rule's own", () => {
    const levels = [{ severity: "info", afterMs: 0, receivers: ["log"], repeatMs: 1000 }];
    const rules = builtInRules({ defaultLevels: levels });
    expect(rules.find((r) => r.name === "DiskHigh")?.levels).toBe(levels);
    expect(rules.find((r) => r.name === "TrainingLossNotFinite")?.levels).not.toBe(levels);
    expect(DEFAULT_RULES.find((r) => r.name === "DiskHigh")?.levels).toBe(DEFAULT_LEVELS);
  });

  it.each([
    ["rules:\n  - name: DiskHigh\n    for: 5 minutes\n", `${F}:3:10 rules[0].for: must be a duration like`],
    ["rules:\n  - name: DiskHigh\n    treshold: 1\n", `${F}:3:5 rules[0].treshold: unknown key`],
    [
      "rules:\n  - name: DiskHigh\n    condition: { valeu: 1 }\n",
      `${F}:3:18 rules[0].condition.valeu: unknown key (did you mean "value"?)`,
    ],
    [
      "rules:\n  - name: DiskHigh\n    condition: { seconds: 5 }\n",
      `${F}:3:27 rules[0].condition.seconds: DiskHigh's condition of kind threshold has no seconds (it has op, value)`,
    ],
    [
      "rules:\n  - name: Mine\n    condition: { kind: not_finite, metric: cryptoml_trainng_loss }\n    summary: s\n    description: d\n",
      `${F}:3:44 rules[0].condition.metric: cryptoml_trainng_loss is not a cryptoml metric (did you mean "cryptoml_training_loss"?)`,
    ],
    [
      "rules:\n  - name: Mine\n    condition: { kind: not_finite, metric: cryptoml_training_loss, labels: { run: x } }\n    summary: s\n    description: d\n",
      "rules[0].condition.labels.run: cryptoml_training_loss has no label run (it has symbol, model, split)",
    ],
    [
      "rules:\n  - name: Mine\n    for: 1m\n",
      `${F}:2:11 rules[0].name: Mine is not a built-in rule, so it needs condition`,
    ],
    [
      "rules:\n  - name: DiskHigh\n    condition: { op: => }\n",
      `${F}:3:22 rules[0].condition.op: must be one of ">", ">=", "<", "<=", "==", "!=" (quoted)`,
    ],
    [
      "rules:\n  - name: DiskHigh\n    levels:\n      - { severity: warning, after: 5m, receivers: [log], repeat: 1h }\n",
      `${F}:4:37 rules[0].levels[0].after: the first level must start at once: after: 0s`,
    ],
    [
      "rules:\n  - name: DiskHigh\n    levels:\n      - { severity: warning, after: 0s, receivers: [log], repeat: 0s }\n",
      `${F}:4:67 rules[0].levels[0].repeat: must be longer than 0s, e.g. 1h`,
    ],
    [
      "rules:\n  - name: DiskHigh\n    levels:\n      - { severity: a, after: 0s, receivers: [log], repeat: 1h }\n      - { severity: b, after: 0s, receivers: [log], repeat: 1h }\n",
      `${F}:5:31 rules[0].levels[1].after: must be later than the level before (0s)`,
    ],
    ["rules:\n  - name: diskHigh\n", `${F}:2:11 rules[0].name: must be a CamelCase alert name`],
    [
      "rules:\n  - name: DiskHigh\n  - name: DiskHigh\n",
      `${F}:3:11 rules[1].name: rule DiskHigh appears twice`,
    ],
    ["rules: [\n", `${F}:2:1 YAML syntax error`],
    ["rule:\n  - name: DiskHigh\n", `${F}:1:1 rule: unknown key (did you mean "rules"?)`],
  ])("rejects %j with file:line:column and the fix", (text, expected) => {
    const found = problems(text);
    expect(
      found.some((p) => p.includes(expected)),
      `${found.join("\n")}\n  does not include\n${expected}`,
    ).toBe(true);
  });

  it("loadRulesFile reads a file and names a missing one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rules-"));
    try {
      const path = join(dir, "r.yaml");
      await writeFile(path, "rules:\n  - name: MemoryHigh\n    disabled: true\n");
      expect((await loadRulesFile(path)).some((r) => r.name === "MemoryHigh")).toBe(false);
      await expect(loadRulesFile(join(dir, "none.yaml"))).rejects.toThrow(
        /none\.yaml: cannot read the rules file \(ENOENT\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
