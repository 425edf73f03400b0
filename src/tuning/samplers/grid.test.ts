import { describe, expect, it } from "vitest";
import { InMemoryStorage } from "../storages/memory.js";
import { Study } from "../study.js";
import { GridSampler } from "./grid.js";

const space = { lr: [0.1, 0.01], layers: [1, 2, 3], act: ["relu", "tanh"] };

const objective = async (t: import("../trial.js").Trial) => {
  const lr = await t.suggestCategorical("lr", [0.1, 0.01]);
  const layers = await t.suggestInt("layers", 1, 3);
  const act = await t.suggestCategorical("act", ["relu", "tanh"]);
  return lr * layers + (act === "relu" ? 0 : 1);
};

describe("GridSampler", () => {
  it("visits every grid point once and then stops the study", async () => {
    const study = await Study.create({ sampler: new GridSampler(space) });
    await study.optimize(objective, { nTrials: 100 });
    const trials = await study.trials;
    expect(trials).toHaveLength(12);
    const points = new Set(trials.map((t) => JSON.stringify([t.params.lr, t.params.layers, t.params.act])));
    expect(points.size).toBe(12);
    expect(trials[0]?.systemAttrs).toMatchObject({ grid_id: 0, search_space: { act: ["relu", "tanh"] } });
    expect(await study.bestValue).toBeCloseTo(0.01);
  });

  it("has a seed-determined order", async () => {
    const order = async (seed: number) => {
      const study = await Study.create({ sampler: new GridSampler(space, { seed }) });
      await study.optimize(objective, { nTrials: 12 });
      return (await study.trials).map((t) => JSON.stringify(t.params));
    };
    expect(await order(3)).toEqual(await order(3));
    expect(await order(3)).not.toEqual(await order(4));
  });

  it("shares the grid between two workers on one storage", async () => {
    const storage = new InMemoryStorage();
    const a = await Study.create({ storage, studyName: "g", sampler: new GridSampler(space, { seed: 1 }) });
    const b = await Study.load({ storage, studyName: "g", sampler: new GridSampler(space, { seed: 1 }) });
    await a.optimize(objective, { nTrials: 5 });
    await b.optimize(objective, { nTrials: 100 });
    const trials = await a.trials;
    expect(trials).toHaveLength(12);
    expect(new Set(trials.map((t) => JSON.stringify(t.params))).size).toBe(12);
  });

  it("refuses a parameter outside the grid", async () => {
    const study = await Study.create({ sampler: new GridSampler({ x: [1] }) });
    const trial = await study.ask();
    await expect(trial.suggestFloat("y", 0, 1)).rejects.toThrow(/not in the grid/);
  });
});
