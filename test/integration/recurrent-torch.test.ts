/**
 * Parity of the fused recurrent layers (src/engine/ops/recurrent) with PyTorch 2.13's nn.LSTM and nn.GRU
 * (batch_first, float32, CPU), through test/peers/recurrent_torch.py: the same weights, inputs, initial
 * states and upstream gradients (into output, h and c at once) go to both; the outputs, final states and
 * the gradients of x, every weight and bias, h0 and c0 must agree. Shapes: the benchmark's
 * (B=64, T=64, F=16, H=64) and a small one; weights drawn like PyTorch's default init, U(±1/√H).
 * Needs torch in the peers venv: `npm run test:peers`.
 *
 * Tolerance: |ours − torch| ≤ 1e-4·|torch| + floor, floor = 1e-6 · (the largest |torch| value of that
 * tensor). Both sides round every stored value to float32 but order the sums differently (torch's MKL
 * GEMM vs ours, and we keep gate arithmetic in float64), so values agree to a few float32 ulps of the
 * terms that were summed. A gradient such as dW_hh is a sum over B·T = 4,096 terms of both signs: where
 * they cancel to near zero, the error is a few ulps of the terms, not of the result, and a relative
 * test alone would fail on entries that are right. The floor is one part in a million of the tensor's
 * own scale — about eight float32 ulps of its largest entry — so it excuses only such cancellations.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { gru, lstm } from "../../src/engine/ops/recurrent.js";
import { backward, ParameterTensor, type Tensor } from "../../src/engine/tensor.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv-peers", "bin", "python");
const SCRIPT = join(ROOT, "test", "peers", "recurrent_torch.py");
const RELATIVE = 1e-4;
const FLOOR = 1e-6;

type Kind = "lstm" | "gru";
interface Shape {
  B: number;
  T: number;
  F: number;
  H: number;
}
interface ParityCase {
  name: string;
  kind: Kind;
  shape: Shape;
  /** Which initial states are given (they then get gradients too). */
  states: ("h0" | "c0")[];
  /** Which outputs receive an upstream gradient. */
  upstream: ("output" | "h" | "c")[];
}

const BENCH: Shape = { B: 64, T: 64, F: 16, H: 64 };
const SMALL: Shape = { B: 3, T: 5, F: 4, H: 6 };
const CASES: ParityCase[] = [
  { name: "lstm-small", kind: "lstm", shape: SMALL, states: ["h0", "c0"], upstream: ["output", "h", "c"] },
  { name: "lstm-bench", kind: "lstm", shape: BENCH, states: ["h0", "c0"], upstream: ["output", "h", "c"] },
  { name: "lstm-bench-last-h", kind: "lstm", shape: BENCH, states: [], upstream: ["h"] },
  { name: "gru-small", kind: "gru", shape: SMALL, states: ["h0"], upstream: ["output", "h"] },
  { name: "gru-bench", kind: "gru", shape: BENCH, states: ["h0"], upstream: ["output", "h"] },
];

/** Deterministic float32 draws (mulberry32 + Box–Muller), so both sides see the same numbers. */
function generator(seed: number) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return {
    normal: (n: number, scale = 1) => Float32Array.from({ length: n }, () => normal() * scale),
    uniform: (n: number, bound: number) =>
      Float32Array.from({ length: n }, () => (2 * uniform() - 1) * bound),
  };
}

interface CaseData {
  x: Float32Array;
  weightIh: Float32Array;
  weightHh: Float32Array;
  biasIh: Float32Array;
  biasHh: Float32Array;
  h0?: Float32Array;
  c0?: Float32Array;
  gradOutput?: Float32Array;
  gradH?: Float32Array;
  gradC?: Float32Array;
}

function caseData(c: ParityCase, seed: number): CaseData {
  const { B, T, F, H } = c.shape;
  const G = (c.kind === "lstm" ? 4 : 3) * H;
  const draw = generator(seed);
  const bound = 1 / Math.sqrt(H);
  const maybe = <K extends string>(list: readonly K[], key: K, n: number, scale: number) =>
    list.includes(key) ? draw.normal(n, scale) : undefined;
  return {
    x: draw.normal(B * T * F),
    weightIh: draw.uniform(G * F, bound),
    weightHh: draw.uniform(G * H, bound),
    biasIh: draw.uniform(G, bound),
    biasHh: draw.uniform(G, bound),
    h0: maybe(c.states, "h0", B * H, 0.5),
    c0: maybe(c.states, "c0", B * H, 0.5),
    gradOutput: maybe(c.upstream, "output", B * T * H, 1),
    gradH: maybe(c.upstream, "h", B * H, 1),
    gradC: maybe(c.upstream, "c", B * H, 1),
  };
}

const list = (a: Float32Array | undefined) => (a === undefined ? null : Array.from(a));

function torchRequest(c: ParityCase, d: CaseData) {
  const { B, T, F, H } = c.shape;
  return {
    name: c.name,
    kind: c.kind,
    batch: B,
    steps: T,
    features: F,
    hidden: H,
    x: list(d.x),
    weight_ih: list(d.weightIh),
    weight_hh: list(d.weightHh),
    bias_ih: list(d.biasIh),
    bias_hh: list(d.biasHh),
    h0: list(d.h0),
    c0: list(d.c0),
    grad_output: list(d.gradOutput),
    grad_h: list(d.gradH),
    grad_c: c.kind === "lstm" ? list(d.gradC) : null,
  };
}

interface Result {
  output: ArrayLike<number>;
  h: ArrayLike<number>;
  c?: ArrayLike<number>;
  grads: Record<string, ArrayLike<number>>;
}

/** Our side: the same layer, the same upstream gradients pushed through one backward. */
function runOurs(c: ParityCase, d: CaseData): Result {
  const { B, T, F, H } = c.shape;
  const G = (c.kind === "lstm" ? 4 : 3) * H;
  const named = {
    x: new ParameterTensor("x", [B, T, F], d.x.slice()),
    weight_ih: new ParameterTensor("weight_ih", [G, F], d.weightIh.slice()),
    weight_hh: new ParameterTensor("weight_hh", [G, H], d.weightHh.slice()),
    bias_ih: new ParameterTensor("bias_ih", [G], d.biasIh.slice()),
    bias_hh: new ParameterTensor("bias_hh", [G], d.biasHh.slice()),
    ...(d.h0 && { h0: new ParameterTensor("h0", [B, H], d.h0.slice()) }),
    ...(d.c0 && { c0: new ParameterTensor("c0", [B, H], d.c0.slice()) }),
  };
  const p = {
    weightIh: named.weight_ih,
    weightHh: named.weight_hh,
    biasIh: named.bias_ih,
    biasHh: named.bias_hh,
  };
  const r: { output: Tensor; h: Tensor; c?: Tensor } =
    c.kind === "lstm" ? lstm(named.x, p, { h0: named.h0, c0: named.c0 }) : gru(named.x, p, { h0: named.h0 });
  // One backward over all three roots: seed each output's gradient, then propagate from a root
  // whose own seed is zero (any output works: the fused node runs once, after all three are seeded).
  const seeds: [Tensor | undefined, Float32Array | undefined][] = [
    [r.output, d.gradOutput],
    [r.h, d.gradH],
    [r.c, d.gradC],
  ];
  for (const [t, g] of seeds) if (t && g) t.gradBuffer().set(g);
  backward(r.output, new Float32Array(r.output.size));
  const grads = Object.fromEntries(Object.entries(named).map(([k, t]) => [k, t.grad]));
  return { output: r.output.data, h: r.h.data, c: r.c?.data, grads };
}

function runTorch(request: unknown): Promise<{ torch: string; cases: Result[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`${SCRIPT} exited ${code}: ${Buffer.concat(err).toString()}`));
      else resolve(JSON.parse(Buffer.concat(out).toString()));
    });
    child.stdin.end(JSON.stringify(request));
  });
}

/** The worst element of `ours` against `theirs`, as a fraction of its allowance (≤ 1 passes). */
function worst(ours: ArrayLike<number>, theirs: ArrayLike<number>) {
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) scale = Math.max(scale, Math.abs(theirs[i] as number));
  let found = { ratio: 0, index: -1, ours: 0, theirs: 0 };
  for (let i = 0; i < theirs.length; i++) {
    const a = ours[i] as number;
    const b = theirs[i] as number;
    const ratio = Math.abs(a - b) / (RELATIVE * Math.abs(b) + FLOOR * scale);
    if (!(ratio <= found.ratio)) found = { ratio, index: i, ours: a, theirs: b };
  }
  return { ...found, length: ours.length === theirs.length };
}

function torchMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} does not exist; run \`npm run test:peers\``;
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status === 0) return undefined;
  const last = (probe.stderr || probe.error?.message || "").trim().split("\n").at(-1);
  return `\`import torch\` fails in .venv-peers (${last}); run \`npm run test:peers\``;
}

describe("fused LSTM and GRU against PyTorch", () => {
  const data = CASES.map((c, i) => caseData(c, 1000 + i));
  let torch: Result[] = [];

  beforeAll(async () => {
    const missing = torchMissing();
    if (missing) throw new Error(missing);
    torch = (await runTorch({ cases: CASES.map((c, i) => torchRequest(c, data[i] as CaseData)) })).cases;
  }, 120_000);

  it.each(CASES.map((c, i) => [c.name, i] as const))("%s", (_name, i) => {
    const c = CASES[i] as ParityCase;
    const ours = runOurs(c, data[i] as CaseData);
    const theirs = torch[i] as Result;
    const pairs: [string, ArrayLike<number> | undefined, ArrayLike<number> | undefined][] = [
      ["output", ours.output, theirs.output],
      ["h", ours.h, theirs.h],
      ["c", ours.c, theirs.c],
      ...Object.keys(theirs.grads).map(
        (k) =>
          [`grad ${k}`, ours.grads[k], theirs.grads[k]] as [string, ArrayLike<number>, ArrayLike<number>],
      ),
    ];
    expect(Object.keys(ours.grads).sort()).toEqual(Object.keys(theirs.grads).sort());
    for (const [what, a, b] of pairs) {
      if (a === undefined && b === undefined) continue;
      const w = worst(a ?? [], b ?? []);
      expect(w.length, `${what}: length`).toBe(true);
      expect(w.ratio, `${what}[${w.index}]: ours ${w.ours} vs torch ${w.theirs}`).toBeLessThanOrEqual(1);
    }
  });
});
