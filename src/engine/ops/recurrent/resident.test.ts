import { afterEach, describe, expect, it } from "vitest";
import { activeKernels, KERNELS_ENV, resetActiveKernels } from "../../kernels/kernel-select.js";
import { backward, noGrad, ParameterTensor } from "../../tensor.js";
import { multiHeadSelfAttention } from "../attention.js";
import { gru, lstm } from "../recurrent.js";

function param(shape: number[], seed: number, amp = 0.8): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * amp;
  return p;
}

/** Outputs and every gradient of one LSTM, GRU and attention window, under the given kernel mode. */
function run(mode: string): Float32Array[] {
  process.env[KERNELS_ENV] = mode;
  resetActiveKernels();
  const [B, T, F, H] = [3, 6, 5, 7]; // H = 7: the SIMD loops' scalar tails run too
  const out: Float32Array[] = [];
  for (const [fn, gates] of [
    [lstm, 4],
    [gru, 3],
  ] as const) {
    const x = param([B, T, F], 1);
    const p = {
      weightIh: param([gates * H, F], 2),
      weightHh: param([gates * H, H], 3),
      biasIh: param([gates * H], 4),
      biasHh: param([gates * H], 5),
    };
    const h0 = param([B, H], 6);
    const r = fn(x, p, { h0 });
    backward(
      r.output,
      Float32Array.from({ length: B * T * H }, (_, i) => Math.cos(i)),
    );
    out.push(
      r.output.data,
      r.h.data,
      ...[x, h0, p.weightIh, p.weightHh, p.biasIh, p.biasHh].map((t) => t.grad as Float32Array),
    );
  }
  const E = 8;
  const x = param([2, 5, E], 7);
  const a = {
    inProjWeight: param([3 * E, E], 8),
    inProjBias: param([3 * E], 9),
    outProjWeight: param([E, E], 10),
    outProjBias: param([E], 11),
  };
  const y = multiHeadSelfAttention(x, a, 2);
  backward(
    y,
    Float32Array.from({ length: y.size }, (_, i) => Math.sin(i)),
  );
  out.push(
    y.data,
    ...[x, a.inProjWeight, a.inProjBias, a.outProjWeight, a.outProjBias].map((t) => t.grad as Float32Array),
  );
  return out;
}

describe("resident WASM recurrent and attention kernels", () => {
  const saved = process.env[KERNELS_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[KERNELS_ENV];
    else process.env[KERNELS_ENV] = saved;
    resetActiveKernels();
  });

  it("agree with the portable TypeScript path on values and every gradient", () => {
    const portable = run("portable");
    const wasm = run("wasm");
    expect(activeKernels().wasm).toBeDefined();
    portable.forEach((want, i) => {
      const got = wasm[i] as Float32Array;
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let j = 0; j < want.length; j++) {
        expect(Math.abs((got[j] as number) - (want[j] as number)), `array ${i} element ${j}`).toBeLessThan(
          2e-6 * scale,
        );
      }
    });
  });

  it("give their wasm memory back after backward and under noGrad", () => {
    process.env[KERNELS_ENV] = "wasm";
    resetActiveKernels();
    const x = param([8, 16, 4], 1);
    const p = {
      weightIh: param([64, 4], 2),
      weightHh: param([64, 16], 3),
      biasIh: param([64], 4),
      biasHh: param([64], 5),
    };
    const once = () => {
      backward(lstm(x, p).h, new Float32Array(8 * 16).fill(1));
      noGrad(() => lstm(x, p));
    };
    once();
    const after = activeKernels().wasm?.stats.memoryBytes;
    for (let i = 0; i < 20; i++) once();
    expect(activeKernels().wasm?.stats.memoryBytes).toBe(after);
  });
});
