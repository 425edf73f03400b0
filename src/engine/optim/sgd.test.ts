import { describe, expect, it } from "vitest";
import { CryptomlError } from "../../core/errors.js";
import type { Parameter } from "../parameter.js";
import type { OptimizerState } from "./optimizer.js";
import { SGD } from "./sgd.js";
import { decodeFloat32 } from "./state.js";

const f = Math.fround;

function param(name: string, data: number[], grad: number[] = data.map(() => 0)): Parameter {
  return { name, shape: [data.length], data: Float32Array.from(data), grad: Float32Array.from(grad) };
}

function setGrad(p: Parameter, grad: number[]): void {
  p.grad.set(grad);
}

describe("SGD update", () => {
  it("plain SGD: p -= lr·g", () => {
    const p = param("w", [1, -2], [0.5, -1]);
    const opt = new SGD([p], { lr: 0.1 });
    opt.step();
    expect([...p.data]).toEqual([f(1 - f(0.1) * 0.5), f(-2 + f(0.1) * 1)]);
    expect(opt.stepCount).toBe(1);
  });

  it("weight decay adds wd·p to the gradient", () => {
    const p = param("w", [2], [1]);
    new SGD([p], { lr: 0.5, weightDecay: 0.25 }).step();
    // g = 1 + 0.25·2 = 1.5; p = 2 − 0.5·1.5
    expect(p.data[0]).toBe(1.25);
  });

  it("momentum: the first buffer is the gradient, then buf = μ·buf + (1 − dampening)·g", () => {
    const p = param("w", [0]);
    const opt = new SGD([p], { lr: 1, momentum: 0.5, dampening: 0.5 });
    setGrad(p, [1]);
    opt.step(); // buf = 1 (no dampening on the first step, as torch)
    expect(p.data[0]).toBe(-1);
    setGrad(p, [2]);
    opt.step(); // buf = 0.5·1 + 0.5·2 = 1.5
    expect(p.data[0]).toBe(-2.5);
    setGrad(p, [0]);
    opt.step(); // buf = 0.75
    expect(p.data[0]).toBe(-3.25);
  });

  it("nesterov: the step uses g + μ·buf", () => {
    const p = param("w", [0]);
    const opt = new SGD([p], { lr: 1, momentum: 0.5, nesterov: true });
    setGrad(p, [1]);
    opt.step(); // buf = 1, d = 1 + 0.5 = 1.5
    expect(p.data[0]).toBe(-1.5);
    setGrad(p, [1]);
    opt.step(); // buf = 1.5, d = 1 + 0.75 = 1.75
    expect(p.data[0]).toBe(-3.25);
  });

  it("reads lr and momentum afresh on every step (schedulers change them)", () => {
    const p = param("w", [0], [1]);
    const opt = new SGD([p], { lr: 1 });
    opt.lr = 0.5;
    opt.step();
    expect(p.data[0]).toBe(-0.5);
    opt.lr = 0;
    opt.step();
    expect(p.data[0]).toBe(-0.5);
    opt.momentum = 0.9;
    expect(opt.momentum).toBe(0.9);
  });

  it("rounds every operation to float32 as torch does", () => {
    const p = param("w", [1 / 3], [f(0.1)]);
    const opt = new SGD([p], { lr: 0.01, momentum: 0.9, weightDecay: 0.01 });
    opt.step();
    opt.step();
    const g = f(f(0.1) + f(0.01) * f(1 / 3));
    const p1 = f(f(1 / 3) + f(-0.01) * g);
    const g2 = f(f(0.1) + f(0.01) * p1);
    const buf = f(f(g * f(0.9)) + g2);
    expect(p.data[0]).toBe(f(p1 + f(-0.01) * buf));
  });

  it("zeroGrad clears every gradient", () => {
    const a = param("a", [1, 2], [3, 4]);
    const b = param("b", [1], [5]);
    const opt = new SGD([a, b], { lr: 0.1 });
    opt.zeroGrad();
    expect([...a.grad, ...b.grad]).toEqual([0, 0, 0]);
  });
});

describe("SGD state", () => {
  function run(opt: SGD, params: Parameter[], steps: number, seed: number): void {
    for (let t = 0; t < steps; t++) {
      params.forEach((p, i) => {
        for (let j = 0; j < p.grad.length; j++) p.grad[j] = Math.sin(seed + 7 * t + 3 * i + j);
      });
      opt.step();
    }
  }

  it("a JSON round trip resumes bit-exactly", () => {
    const make = () => [param("a", [0.1, 0.2, 0.3]), param("b", [-1])];
    const options = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 };
    const straight = make();
    const optA = new SGD(straight, options);
    run(optA, straight, 10, 1);

    const resumed = make();
    const optB = new SGD(resumed, options);
    run(optB, resumed, 5, 1);
    const saved = JSON.parse(JSON.stringify(optB.stateDict())) as OptimizerState;
    const copy = resumed.map((p) => param(p.name, [...p.data]));
    const optC = new SGD(copy, { lr: 1 });
    optC.loadStateDict(saved);
    expect(optC.lr).toBe(0.05);
    expect(optC.stepCount).toBe(5);
    // continue with the grads of steps 5..9
    for (let t = 5; t < 10; t++) {
      copy.forEach((p, i) => {
        for (let j = 0; j < p.grad.length; j++) p.grad[j] = Math.sin(1 + 7 * t + 3 * i + j);
      });
      optC.step();
    }
    expect(copy.map((p) => [...p.data])).toEqual(straight.map((p) => [...p.data]));
  });

  it("the state is plain JSON with base64 buffers", () => {
    const p = param("w", [1, 2], [1, 1]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    expect(opt.stateDict().params[0]?.buffers).toEqual({});
    opt.step();
    const state = opt.stateDict();
    expect(state).toMatchObject({
      format: 1,
      kind: "sgd",
      step: 1,
      hyper: { lr: 0.1, momentum: 0.9, nesterov: false },
    });
    const buffer = state.params[0]?.buffers.momentum_buffer;
    expect([...decodeFloat32(buffer, 2, "momentum_buffer")]).toEqual([1, 1]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it("rejects state from another kind or other parameters", () => {
    const opt = new SGD([param("w", [1, 2])], { lr: 0.1, momentum: 0.9 });
    const state = opt.stateDict();
    expect(() => new SGD([param("v", [1, 2])], { lr: 0.1 }).loadStateDict(state)).toThrow(/"w" \(2 values\)/);
    expect(() => new SGD([param("w", [1])], { lr: 0.1 }).loadStateDict(state)).toThrow(/params\[0\]/);
    expect(() => opt.loadStateDict({ ...state, kind: "adam" } as unknown as OptimizerState)).toThrow(
      /kind="adam" must be "sgd"/,
    );
    const corrupt = { ...state, params: [{ name: "w", size: 2, buffers: { momentum_buffer: "AAAA" } }] };
    expect(() => opt.loadStateDict(corrupt)).toThrow(/holds 0.75 float32 values but the parameter has 2/);
  });
});

describe("SGD options", () => {
  const p = () => [param("w", [1])];
  it.each([
    [{ lr: -1 }, "SGD.lr=-1 must be a finite number > 0"],
    [{ lr: 0 }, "SGD.lr=0 must be a finite number > 0"],
    [{ lr: Number.NaN }, "SGD.lr=NaN must be a finite number > 0"],
    [{ lr: 0.1, momentum: -0.5 }, "SGD.momentum=-0.5 must be a finite number >= 0"],
    [{ lr: 0.1, weightDecay: -1 }, "SGD.weightDecay=-1 must be a finite number >= 0"],
    [{ lr: 0.1, nesterov: true }, "SGD.nesterov=true needs momentum > 0 and dampening = 0"],
    [{ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }, "dampening=0.1"],
  ])("%o → %s", (options, message) => {
    expect(() => new SGD(p(), options)).toThrow(message);
  });

  it("errors are CryptomlError with code USAGE", () => {
    try {
      new SGD(p(), { lr: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CryptomlError);
      expect((error as CryptomlError).code).toBe("USAGE");
    }
  });

  it("rejects empty, mismatched or duplicated parameters", () => {
    expect(() => new SGD([], { lr: 0.1 })).toThrow("SGD: got an empty parameter list");
    const bad = { name: "w", shape: [2], data: new Float32Array(2), grad: new Float32Array(1) };
    expect(() => new SGD([bad], { lr: 0.1 })).toThrow('"w" has 2 values but 1 grads');
    expect(() => new SGD([param("w", [1]), param("w", [2])], { lr: 0.1 })).toThrow(
      '"w" appears more than once',
    );
  });

  it("the lr setter accepts 0 but not negative values", () => {
    const opt = new SGD(p(), { lr: 0.1 });
    opt.lr = 0;
    expect(opt.lr).toBe(0);
    expect(() => {
      opt.lr = -0.1;
    }).toThrow("SGD.lr=-0.1 must be a finite number >= 0");
  });
});
