import { describe, expect, it } from "vitest";
import { backward, ParameterTensor, tensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { bceWithLogitsLoss, crossEntropyLoss, huberLoss, mseLoss } from "./losses.js";

function param(shape: number[], seed = 1, spread = 0.9): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * spread;
  return p;
}
const constant = (shape: number[], seed: number, spread = 0.9) => param(shape, seed, spread).detach();

describe("losses", () => {
  it("gradients match finite differences", () => {
    const pred = param([4, 3], 1, 2);
    const target = constant([4, 3], 2, 1.5);
    const probs = tensor(
      Array.from({ length: 12 }, (_, i) => (i % 4) / 3),
      [4, 3],
    );
    const classes = Int32Array.from([0, 2, 1, 2]);
    expect(gradcheck(() => mseLoss(pred, target), [pred])).toEqual([]);
    // The finite-difference step (1e-2) must not straddle a kink: no |pred − target| is within it of 0.5.
    expect(gradcheck(() => huberLoss(pred, target, 0.5), [pred])).toEqual([]);
    expect(gradcheck(() => huberLoss(pred, target), [pred])).toEqual([]);
    expect(gradcheck(() => bceWithLogitsLoss(pred, probs), [pred])).toEqual([]);
    expect(gradcheck(() => crossEntropyLoss(pred, classes), [pred])).toEqual([]);
  });

  it("compute the PyTorch values on hand cases", () => {
    const p = tensor([0, 2, -1], [3]);
    const t = tensor([0.5, 0, -1], [3]);
    expect(mseLoss(p, t).item()).toBeCloseTo((0.25 + 4) / 3, 6);
    // |d| = 0.5 → 0.125; |d| = 2 → 1·(2 − 0.5) = 1.5; 0 → 0.
    expect(huberLoss(p, t).item()).toBeCloseTo((0.125 + 1.5) / 3, 6);
    // delta 2: |d| = 2 is not below delta → 2·(2 − 1) = 2.
    expect(huberLoss(p, t, 2).item()).toBeCloseTo((0.125 + 2) / 3, 6);
    const bce = bceWithLogitsLoss(tensor([0, 3], [2]), tensor([1, 0], [2])).item();
    expect(bce).toBeCloseTo((Math.log(2) + Math.log(1 + Math.exp(3))) / 2, 6);
    const ce = crossEntropyLoss(tensor([1, 2, 3, 0, 0, 0], [2, 3]), Int32Array.from([2, 0])).item();
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(ce).toBeCloseTo((lse - 3 + Math.log(3)) / 2, 6);
    expect(mseLoss(p, t).shape).toEqual([]);
  });

  it("stay finite for extreme logits", () => {
    const x = new ParameterTensor("x", [4]);
    x.data.set([200, -200, 1000, -1000]);
    const bce = bceWithLogitsLoss(x, tensor([0, 1, 1, 0], [4]));
    // Loss ≈ (200 + 200 + 0 + 0)/4; gradient (sigmoid − y)/4 = ±1/4 or 0.
    expect(bce.item()).toBeCloseTo(100, 4);
    backward(bce);
    expect([...x.grad]).toEqual([0.25, -0.25, 0, 0]);
    const logits = new ParameterTensor("l", [1, 3]);
    logits.data.set([1000, -1000, 0]);
    const ce = crossEntropyLoss(logits, Int32Array.from([1]));
    expect(ce.item()).toBeCloseTo(2000, 2);
    backward(ce);
    expect([...logits.grad]).toEqual([1, -1, 0]);
  });

  it("huber's gradient is d clipped to ±delta, mse's is 2d/n", () => {
    const pred = new ParameterTensor("p", [3]);
    pred.data.set([0.25, 3, -4]);
    backward(huberLoss(pred, tensor([0, 0, 0], [3]), 1));
    expect([...pred.grad]).toEqual([0.25 / 3, 1 / 3, -1 / 3].map(Math.fround));
    pred.grad.fill(0);
    backward(mseLoss(pred, tensor([0, 0, 0], [3])));
    expect([...pred.grad]).toEqual([0.5 / 3, 2, -8 / 3].map(Math.fround));
  });

  it("refuse mismatched inputs", () => {
    expect(() => mseLoss(param([3]), tensor([1, 2], [2]))).toThrow(/must have the same, non-zero size/);
    expect(() => huberLoss(param([2]), tensor([1, 2], [2]), 0)).toThrow(/huberLoss.delta=0 must be > 0/);
    expect(() => crossEntropyLoss(param([2, 3]), Int32Array.from([0]))).toThrow(
      /must be \[N, C\] with N = 1/,
    );
    expect(() => crossEntropyLoss(param([2, 3]), Int32Array.from([0, 3]))).toThrow(
      /classes\[1\]=3 must be in \[0, 3\)/,
    );
  });
});
