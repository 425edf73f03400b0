import { describe, expect, it } from "vitest";
import { noGrad, ParameterTensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { type AttentionParams, causalMask, multiHeadSelfAttention } from "./attention.js";

function param(shape: number[], seed = 1, spread = 0.9): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * spread;
  return p;
}

function params(embed: number, seed: number, bias = true): AttentionParams {
  return {
    inProjWeight: param([3 * embed, embed], seed, 0.6),
    inProjBias: bias ? param([3 * embed], seed + 1, 0.3) : undefined,
    outProjWeight: param([embed, embed], seed + 2, 0.6),
    outProjBias: bias ? param([embed], seed + 3, 0.3) : undefined,
  };
}

/** nn.MultiheadAttention's forward written out per element in float64. */
function reference(x: ParameterTensor, p: AttentionParams, heads: number, mask?: Float32Array): number[] {
  const [batch, steps, embed] = x.shape as [number, number, number];
  const dh = embed / heads;
  const proj = (row: number, b: number, t: number) => {
    let s = p.inProjBias ? (p.inProjBias.data[row] as number) : 0;
    for (let j = 0; j < embed; j++)
      s += (p.inProjWeight.data[row * embed + j] as number) * (x.data[(b * steps + t) * embed + j] as number);
    return s;
  };
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const ctx: number[][] = Array.from({ length: steps }, () => new Array<number>(embed).fill(0));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < steps; i++) {
        const scores: number[] = [];
        for (let j = 0; j < steps; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += proj(h * dh + c, b, i) * proj(embed + h * dh + c, b, j);
          scores.push(s / Math.sqrt(dh) + (mask ? (mask[i * steps + j] as number) : 0));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const total = e.reduce((a, v) => a + v, 0);
        for (let c = 0; c < dh; c++) {
          let s = 0;
          for (let j = 0; j < steps; j++)
            s += ((e[j] as number) / total) * proj(2 * embed + h * dh + c, b, j);
          (ctx[i] as number[])[h * dh + c] = s;
        }
      }
    }
    for (let i = 0; i < steps; i++) {
      for (let o = 0; o < embed; o++) {
        let s = p.outProjBias ? (p.outProjBias.data[o] as number) : 0;
        for (let j = 0; j < embed; j++)
          s += (p.outProjWeight.data[o * embed + j] as number) * ((ctx[i] as number[])[j] as number);
        out.push(s);
      }
    }
  }
  return out;
}

const inputsOf = (x: ParameterTensor, p: AttentionParams) =>
  [x, p.inProjWeight, p.inProjBias, p.outProjWeight, p.outProjBias].filter((t) => t !== undefined);

describe("multiHeadSelfAttention", () => {
  it.each([
    ["2 heads", 2, false, true],
    ["1 head", 1, false, true],
    ["4 heads with a causal mask", 4, true, true],
    ["2 heads without biases", 2, false, false],
  ] as const)("matches the definition and finite differences: %s", (_name, heads, masked, bias) => {
    const x = param([2, 3, 4], 11);
    const p = params(4, 20, bias);
    const mask = masked ? causalMask(3) : undefined;
    const y = multiHeadSelfAttention(x, p, heads, { mask });
    expect(y.shape).toEqual([2, 3, 4]);
    reference(x, p, heads, mask).forEach((v, i) => {
      expect(y.data[i]).toBeCloseTo(v, 5);
    });
    expect(gradcheck(() => multiHeadSelfAttention(x, p, heads, { mask }), inputsOf(x, p))).toEqual([]);
  });

  it("makes one graph node and none under noGrad", () => {
    const x = param([1, 2, 4], 1);
    const p = params(4, 2);
    const y = multiHeadSelfAttention(x, p, 2);
    expect(y.parents).toHaveLength(5);
    expect(noGrad(() => multiHeadSelfAttention(x, p, 2)).requiresGrad).toBe(false);
  });

  it("with a causal mask, a query does not see later steps", () => {
    const x = param([1, 4, 4], 3);
    const p = params(4, 4);
    const before = multiHeadSelfAttention(x, p, 2, { mask: causalMask(4) }).data.slice(0, 8);
    x.data[15] = 42; // the last step only
    const after = multiHeadSelfAttention(x, p, 2, { mask: causalMask(4) }).data.slice(0, 8);
    expect(after).toEqual(before);
    expect([...causalMask(2)]).toEqual([0, Number.NEGATIVE_INFINITY, 0, 0]);
  });

  it("refuses heads that do not divide E, and shapes that do not fit", () => {
    const x = param([1, 2, 6], 1);
    expect(() => multiHeadSelfAttention(x, params(6, 1), 4)).toThrow(
      /attention.heads=4 must be an integer >= 1 that divides E=6/,
    );
    expect(() => multiHeadSelfAttention(x, params(4, 1), 2)).toThrow(
      /inProjWeight \[12,4\] must be \[18,6\]/,
    );
    expect(() => multiHeadSelfAttention(x, params(6, 1), 2, { mask: new Float32Array(3) })).toThrow(
      /mask has 3 values/,
    );
  });
});
