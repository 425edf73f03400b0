import { describe, expect, it } from "vitest";
import { ParameterTensor, type Tensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { conv1d } from "./conv1d.js";

function param(shape: number[], seed = 1): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * 0.9;
  return p;
}

/** The definition, term by term, in float64. */
function direct(x: Tensor, w: Tensor, b: Tensor | undefined, padding: number): number[] {
  const [batch, steps, cin] = x.shape as [number, number, number];
  const [cout, , kernel] = w.shape as [number, number, number];
  const tout = steps + 2 * padding - kernel + 1;
  const out: number[] = [];
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < tout; t++) {
      for (let o = 0; o < cout; o++) {
        let s = b ? (b.data[o] as number) : 0;
        for (let c = 0; c < cin; c++) {
          for (let k = 0; k < kernel; k++) {
            const ti = t + k - padding;
            if (ti >= 0 && ti < steps)
              s +=
                (w.data[(o * cin + c) * kernel + k] as number) *
                (x.data[(n * steps + ti) * cin + c] as number);
          }
        }
        out.push(s);
      }
    }
  }
  return out;
}

describe("conv1d", () => {
  it.each([
    [3, 1],
    [3, 0],
    [1, 0],
    [2, 1],
    [3, 2],
    [5, 2],
  ])("matches the definition and finite differences: K=%i, padding=%i", (kernel, padding) => {
    const x = param([2, 5, 3], kernel * 10 + padding);
    const w = param([4, 3, kernel], 2);
    const b = param([4], 3);
    const y = conv1d(x, w, b, { padding });
    expect(y.shape).toEqual([2, 5 + 2 * padding - kernel + 1, 4]);
    const expected = direct(x, w, b, padding);
    expected.forEach((v, i) => {
      expect(y.data[i]).toBeCloseTo(v, 5);
    });
    expect(gradcheck(() => conv1d(x, w, b, { padding }), [x, w, b])).toEqual([]);
  });

  it("works without a bias and with padding wider than the sequence", () => {
    const x = param([1, 2, 2], 4);
    const w = param([3, 2, 3], 5);
    const y = conv1d(x, w, undefined, { padding: 3 });
    expect(y.shape).toEqual([1, 6, 3]);
    direct(x, w, undefined, 3).forEach((v, i) => {
      expect(y.data[i]).toBeCloseTo(v, 6);
    });
    expect(gradcheck(() => conv1d(x, w, undefined, { padding: 3 }), [x, w])).toEqual([]);
  });

  it("refuses shapes and paddings that do not fit", () => {
    expect(() => conv1d(param([1, 2, 3]), param([4, 2, 3]))).toThrow(/does not fit weight/);
    expect(() => conv1d(param([1, 2, 3]), param([4, 3, 3]))).toThrow(/does not fit weight/);
    expect(() => conv1d(param([1, 4, 3]), param([4, 3, 3]), param([3]))).toThrow(/bias \[3\] must be \[4\]/);
    expect(() => conv1d(param([1, 4, 3]), param([4, 3, 3]), undefined, { padding: -1 })).toThrow(
      /conv1d.padding=-1 must be an integer >= 0/,
    );
  });
});
