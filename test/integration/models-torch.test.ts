import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mseLoss } from "../../src/engine/ops/losses.js";
import { Adam } from "../../src/engine/optim/index.js";
import { Rng } from "../../src/engine/random.js";
import {
  loadParameters,
  readSafetensors,
  saveParameters,
  writeSafetensors,
} from "../../src/engine/safetensors/index.js";
import { backward, Tensor } from "../../src/engine/tensor.js";
import { createReferenceModel, REFERENCE_MODELS, type ReferenceShape } from "../../src/models/reference.js";
import { REPO_ROOT } from "../helpers/run-cli.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const PYTHON = join(REPO_ROOT, ".venv-peers", "bin", "python");
const PEER = join(REPO_ROOT, "test", "peers", "models_torch.py");
// The benchmark's shapes, with a smaller batch so 100 Adam steps of five models stay quick.
const SHAPE: ReferenceShape = {
  features: 16,
  window: 64,
  hidden: 64,
  convChannels: 32,
  heads: 4,
  feedForward: 128,
  layers: 2,
};
const BATCH = 16;
const STEPS = 100;

function randomTensor(rng: Rng, shape: number[], scale = 1): Tensor {
  const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return new Tensor(data, shape);
}

/**
 * |ours − torch| ≤ 1e-4·|torch| + floor, where the floor is 1e-4 of the tensor's largest magnitude:
 * float32 sums in a different order differ by rounding that scales with the terms summed, not with a
 * result that happens to cancel to near zero. The floor is at least 1e-8 because one gradient is zero
 * in exact arithmetic (lstm_attention's score.bias: softmax ignores a shift of every score), where both
 * sides return rounding noise of about 1e-11; real gradients here are 1e-4 to 1.
 */
function expectClose(ours: Float32Array, theirs: Float32Array, what: string): void {
  expect(ours.length, what).toBe(theirs.length);
  const floor = Math.max(1e-8, 1e-4 * theirs.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ours.length; i++) {
    const excess =
      Math.abs((ours[i] as number) - (theirs[i] as number)) - (1e-4 * Math.abs(theirs[i] as number) + floor);
    if (excess > worst) [worst, at] = [excess, i];
  }
  expect(at, `${what}: element ${at} is ${ours[at]} but PyTorch has ${theirs[at]}`).toBe(-1);
}

describe.each(REFERENCE_MODELS)("%s matches PyTorch 2.13", (name) => {
  it("in output, every parameter gradient, and 100 Adam steps", async () => {
    expect(existsSync(PYTHON), "Python test peers missing: run `npm run test:peers`").toBe(true);
    const dir = tempDir();
    const rng = new Rng(7);
    const model = createReferenceModel(name, rng, SHAPE);
    const x = randomTensor(rng, [BATCH, SHAPE.window, SHAPE.features]);
    const y = randomTensor(rng, [BATCH, 1], 0.5);
    const xs = randomTensor(rng, [STEPS, BATCH, SHAPE.window, SHAPE.features]);
    const ys = randomTensor(rng, [STEPS, BATCH, 1], 0.5);
    await saveParameters(join(dir, "weights.safetensors"), model.parameters());
    await writeSafetensors(join(dir, "data.safetensors"), [
      { name: "x", shape: x.shape, data: x.data },
      { name: "y", shape: y.shape, data: y.data },
      { name: "xs", shape: xs.shape, data: xs.data },
      { name: "ys", shape: ys.shape, data: ys.data },
    ]);
    const run = spawnSync(
      PYTHON,
      [
        PEER,
        name,
        JSON.stringify(SHAPE),
        join(dir, "weights.safetensors"),
        join(dir, "data.safetensors"),
        join(dir, "out.safetensors"),
      ],
      { encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(0);
    const torch = (await readSafetensors(join(dir, "out.safetensors"))).tensors;
    const get = (key: string) => torch.get(key)?.data as Float32Array;

    // The reverse direction: PyTorch's own freshly initialised weights load into our model by name.
    const fromTorch = createReferenceModel(name, new Rng(99), SHAPE);
    const loaded = await loadParameters(join(dir, "out.safetensors.torch-init"), fromTorch.parameters());
    expect(loaded.missingKeys).toEqual([]);
    expect(loaded.unexpectedKeys).toEqual([]);
    const torchInit = (await readSafetensors(join(dir, "out.safetensors.torch-init"))).tensors;
    for (const p of fromTorch.parameters())
      expect(Array.from(p.data)).toEqual(Array.from((torchInit.get(p.name)?.data as Float32Array) ?? []));

    const output = model.forward(x);
    const loss = mseLoss(output, y);
    backward(loss);
    expectClose(output.data, get("output"), "output");
    expectClose(loss.data, get("loss"), "loss");
    for (const p of model.parameters()) expectClose(p.grad, get(`grad.${p.name}`), `grad of ${p.name}`);

    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const sampleSize = BATCH * SHAPE.window * SHAPE.features;
    const losses = get("losses");
    for (let s = 0; s < STEPS; s++) {
      optimizer.zeroGrad();
      const xb = new Tensor(xs.data.subarray(s * sampleSize, (s + 1) * sampleSize), [
        BATCH,
        SHAPE.window,
        SHAPE.features,
      ]);
      const yb = new Tensor(ys.data.subarray(s * BATCH, (s + 1) * BATCH), [BATCH, 1]);
      const stepLoss = mseLoss(model.forward(xb), yb);
      backward(stepLoss);
      optimizer.step();
      const theirs = losses[s] as number;
      expect(
        Math.abs(stepLoss.item() - theirs),
        `loss at Adam step ${s}: ours ${stepLoss.item()}, PyTorch ${theirs}`,
      ).toBeLessThanOrEqual(1e-3 * Math.abs(theirs));
    }
  });
});
