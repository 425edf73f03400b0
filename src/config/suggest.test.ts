import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { showPath, showValue } from "./show-value.js";
import { didYouMean, editDistance, suggest } from "./suggest.js";

describe("suggest", () => {
  it("finds keys within two edits, transpositions counting as one", () => {
    expect(suggest("windw", ["window", "horizon"])).toBe("window");
    expect(suggest("widnow", ["window", "horizon"])).toBe("window");
    expect(suggest("BATCH_SIZ", ["batch_size"])).toBe("batch_size");
    expect(suggest("completely_different", ["window"])).toBeUndefined();
    expect(didYouMean("trainig", ["data", "training"])).toBe(' (did you mean "training"?)');
    expect(didYouMean("zzz", ["data"])).toBe("");
  });

  it("is a distance: zero on equal words, symmetric, bounded by the longer length", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(editDistance(a, a)).toBe(0);
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe("showValue / showPath", () => {
  it("prints YAML-ish scalars with strings quoted", () => {
    expect(showValue(-4)).toBe("-4");
    expect(showValue("abc")).toBe('"abc"');
    expect(showValue(null)).toBe("null");
    expect(showValue([1, "a"])).toBe('[1, "a"]');
    expect(showValue({ train: 0.8 })).toBe("{train: 0.8}");
    expect(showValue("x".repeat(100))).toHaveLength(60);
  });

  it("joins keys with dots and list indices with brackets", () => {
    expect(showPath(["features", 3, "slow"])).toBe("features[3].slow");
    expect(showPath(["training", "batch_size"])).toBe("training.batch_size");
  });
});
