import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { problemsOf } from "../../test/helpers/config-fixtures.js";
import { parseYamlSource } from "./yaml-source.js";

const TEXT = [
  "training:", // 1
  "  seed: &s 7", // 2
  "  batch_size: &bs -4", // 3
  "  lists: &l", // 4
  "    - a", // 5
  "  epochs: *bs", // 6
  "  again: *l", // 7
  "  flow: [*s, 2]", // 8
].join("\n");

describe("YamlSource.line", () => {
  const source = parseYamlSource("t.yaml", TEXT);

  it("reports a scalar's own line, and an alias's own line rather than its anchor's", () => {
    expect(source.line(["training", "batch_size"])).toBe(3);
    expect(source.line(["training", "epochs"])).toBe(6);
    expect(source.line(["training", "epochs"], "key")).toBe(6);
  });

  it("reports the alias for anything reached through it, in mappings and lists", () => {
    expect(source.line(["training", "again"])).toBe(7);
    expect(source.line(["training", "again", 0])).toBe(7);
    expect(source.line(["training", "lists", 0])).toBe(5);
    expect(source.line(["training", "flow", 0])).toBe(8);
  });

  it("names the alias's line in a config problem", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cryptoml-alias-"));
    try {
      const yaml = [
        "training:",
        "  batch_size: &bs 16",
        "  seed: 1",
        "  workers: 1",
        "  epochs: &e -3",
        "  gradient_clip: *e",
      ];
      await writeFile(join(dir, "training.yaml"), `${yaml.join("\n")}\n`);
      expect(await problemsOf(dir)).toEqual([
        `${join(dir, "training.yaml")}:5 training.epochs: -3 must be an integer >= 1`,
        `${join(dir, "training.yaml")}:6 training.gradient_clip: -3 must be a number >= 0`,
      ]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
