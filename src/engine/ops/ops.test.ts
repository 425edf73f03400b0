import { describe, expect, it } from "vitest";
import { backward, noGrad, ParameterTensor, Tensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { add, gelu, mul, relu, reshape, scale, sigmoid, tanh } from "./elementwise.js";
import { bmm, linear } from "./linear.js";
import { concat, mean, slice, sum } from "./structure.js";

/** A trainable tensor with deterministic, varied values in [-1, 1]. */
function param(shape: number[], seed = 1): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * 0.9;
  return p;
}

describe("gradients match finite differences", () => {
  const cases: [string, () => { f: () => Tensor; inputs: Tensor[] }][] = [
    [
      "add (bias broadcast)",
      () => {
        const a = param([2, 3, 4], 1);
        const b = param([4], 2);
        return { f: () => add(a, b), inputs: [a, b] };
      },
    ],
    [
      "add (position broadcast)",
      () => {
        const a = param([2, 3, 4], 1);
        const b = param([3, 4], 2);
        return { f: () => add(a, b), inputs: [a, b] };
      },
    ],
    [
      "mul",
      () => {
        const a = param([3, 4], 3);
        const b = param([3, 4], 4);
        return { f: () => mul(a, b), inputs: [a, b] };
      },
    ],
    [
      "scale",
      () => {
        const a = param([5], 5);
        return { f: () => scale(a, -2.5), inputs: [a] };
      },
    ],
    [
      "relu",
      () => {
        const a = param([17], 6);
        return { f: () => relu(a), inputs: [a] };
      },
    ],
    [
      "tanh",
      () => {
        const a = param([17], 7);
        return { f: () => tanh(a), inputs: [a] };
      },
    ],
    [
      "sigmoid",
      () => {
        const a = param([17], 8);
        return { f: () => sigmoid(a), inputs: [a] };
      },
    ],
    [
      "gelu",
      () => {
        const a = param([17], 9);
        return { f: () => gelu(a), inputs: [a] };
      },
    ],
    [
      "reshape",
      () => {
        const a = param([2, 6], 10);
        return { f: () => mul(reshape(a, [3, 4]), reshape(a, [3, 4])), inputs: [a] };
      },
    ],
    [
      "linear",
      () => {
        const x = param([2, 3, 5], 11);
        const w = param([4, 5], 12);
        const b = param([4], 13);
        return { f: () => linear(x, w, b), inputs: [x, w, b] };
      },
    ],
    [
      "bmm",
      () => {
        const a = param([2, 3, 4], 14);
        const b = param([2, 4, 5], 15);
        return { f: () => bmm(a, b), inputs: [a, b] };
      },
    ],
    [
      "bmm transB",
      () => {
        const a = param([2, 3, 4], 16);
        const b = param([2, 5, 4], 17);
        return { f: () => bmm(a, b, { transB: true }), inputs: [a, b] };
      },
    ],
    [
      "bmm transA",
      () => {
        const a = param([2, 4, 3], 18);
        const b = param([2, 4, 5], 19);
        return { f: () => bmm(a, b, { transA: true }), inputs: [a, b] };
      },
    ],
    [
      "bmm transA transB",
      () => {
        const a = param([2, 4, 3], 20);
        const b = param([2, 5, 4], 21);
        return { f: () => bmm(a, b, { transA: true, transB: true }), inputs: [a, b] };
      },
    ],
    [
      "sum over time",
      () => {
        const a = param([2, 3, 4], 22);
        return { f: () => sum(a, 1), inputs: [a] };
      },
    ],
    [
      "mean over time",
      () => {
        const a = param([2, 3, 4], 23);
        return { f: () => mean(a, 1), inputs: [a] };
      },
    ],
    [
      "slice",
      () => {
        const a = param([2, 5, 3], 24);
        return { f: () => slice(a, 1, 1, 4), inputs: [a] };
      },
    ],
    [
      "concat",
      () => {
        const a = param([2, 2, 3], 25);
        const b = param([2, 3, 3], 26);
        return { f: () => concat([a, b], 1), inputs: [a, b] };
      },
    ],
  ];
  it.each(cases)("%s", (_name, make) => {
    const { f, inputs } = make();
    expect(gradcheck(f, inputs)).toEqual([]);
  });
});

describe("autograd", () => {
  it("accumulates through shared inputs and skips the graph under noGrad", () => {
    const a = param([3], 1);
    const y = sum(add(mul(a, a), a), 0);
    backward(y);
    for (let i = 0; i < 3; i++) expect(a.grad[i]).toBeCloseTo(2 * (a.data[i] as number) + 1, 6);
    const z = noGrad(() => mul(a, a));
    expect(z.requiresGrad).toBe(false);
    expect(z.parents).toEqual([]);
  });

  it("computes linear exactly on a hand case", () => {
    const x = new Tensor(Float32Array.from([1, 2]), [1, 2]);
    const w = new Tensor(Float32Array.from([1, 0, 0.5, -1]), [2, 2]);
    const b = new Tensor(Float32Array.from([0.25, 1]), [2]);
    expect(Array.from(linear(x, w, b).data)).toEqual([1.25, -0.5]);
  });

  it("refuses shapes that do not fit", () => {
    expect(() => linear(param([2, 3]), param([4, 5]))).toThrow(/does not fit weight/);
    expect(() => add(param([2, 3]), param([2]))).toThrow(/does not broadcast/);
  });
});
