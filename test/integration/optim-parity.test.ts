/**
 * Parity of src/engine/optim with torch.optim (PyTorch 2.13, CPU, float32): the same initial parameters
 * and the same 100 gradient batches go through our optimiser (with clipping and a scheduler) and through
 * test/peers/torch_optim_reference.py; every step's LR, momentum and clip norm, and the parameters, must
 * agree. Needs torch in the peers venv (`npm run test:peers`); skipped, saying so, when `import torch`
 * fails there.
 *
 * Tolerances. Parameters: |ours − torch| ≤ 1e-6 · max(|torch|, 1e-2): the float32 update is reproduced
 * operation for operation, so most runs are bit-identical; what remains is torch's MKL square root (≈0.5
 * ulp, not always correctly rounded) and CPython's `pow` vs ours in the last bit, which 100 steps carry to
 * a few 1e-7 at most. The 1e-2 floor keeps a parameter that crosses zero from turning one float32 ulp of
 * its neighbours' scale into a huge relative error. LR and momentum: 1e-12 relative (float64 scalar
 * arithmetic in both; only `cos` may differ in the last bit). Clip norm: 1e-6 relative (torch's float32
 * reduction order vs our float64 sum).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam,
  type AdamOptions,
  AdamW,
  CosineWithWarmup,
  type CosineWithWarmupOptions,
  clipGradNorm,
  type LrScheduler,
  OneCycleLR,
  type OneCycleOptions,
  type Optimizer,
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  SGD,
  type SgdOptions,
  StepLR,
  type StepLROptions,
} from "../../src/engine/optim/index.js";
import type { Parameter } from "../../src/engine/parameter.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv-peers", "bin", "python");
const SCRIPT = join(ROOT, "test", "peers", "torch_optim_reference.py");
const STEPS = 100;
const PARAM_TOLERANCE = 1e-6;
const PARAM_FLOOR = 1e-2;
const LR_TOLERANCE = 1e-12;
const NORM_TOLERANCE = 1e-6;

function torchMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} does not exist; run \`npm run test:peers\``;
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status === 0) return undefined;
  const last = (probe.stderr || probe.error?.message || "").trim().split("\n").at(-1);
  return `\`import torch\` fails in .venv-peers (${last}); run \`npm run test:peers\``;
}
const SKIP_REASON = torchMissing();
if (SKIP_REASON) console.warn(`optim parity skipped: ${SKIP_REASON}`);

type OptimizerSpec = { type: "sgd"; options: SgdOptions } | { type: "adam" | "adamw"; options: AdamOptions };
type SchedulerSpec =
  | { type: "step"; options: StepLROptions }
  | { type: "cosine_warmup"; options: CosineWithWarmupOptions }
  | { type: "one_cycle"; options: OneCycleOptions }
  | { type: "plateau"; options: ReduceLROnPlateauOptions };

interface ParityCase {
  name: string;
  sizes: number[];
  optimizer: OptimizerSpec;
  scheduler?: SchedulerSpec;
  clip?: { maxNorm: number; normType?: number };
  recordEvery?: number;
}

const CASES: ParityCase[] = [
  { name: "sgd", sizes: [17, 64], optimizer: { type: "sgd", options: { lr: 0.05 } } },
  {
    name: "sgd-momentum-dampening-decay",
    sizes: [33, 5],
    optimizer: { type: "sgd", options: { lr: 0.02, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 } },
  },
  {
    name: "sgd-nesterov-clip-steplr",
    sizes: [40, 3],
    optimizer: { type: "sgd", options: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 } },
    clip: { maxNorm: 1 },
    scheduler: { type: "step", options: { stepSize: 10, gamma: 0.5 } },
  },
  { name: "adam", sizes: [31, 64, 2], optimizer: { type: "adam", options: {} } },
  {
    name: "adam-decay-amsgrad-clip",
    sizes: [50, 9],
    optimizer: { type: "adam", options: { lr: 3e-3, weightDecay: 1e-2, amsgrad: true } },
    clip: { maxNorm: 0.5 },
  },
  {
    name: "adam-betas-cosine-min",
    sizes: [24],
    optimizer: { type: "adam", options: { lr: 1e-2, betas: [0.8, 0.99], eps: 1e-6 } },
    scheduler: { type: "cosine_warmup", options: { warmupSteps: 10, totalSteps: STEPS, minLr: 1e-4 } },
  },
  {
    name: "adam-cosine-transformers",
    sizes: [24, 7],
    optimizer: { type: "adam", options: { lr: 5e-3 } },
    scheduler: { type: "cosine_warmup", options: { warmupSteps: 0, totalSteps: STEPS } },
  },
  {
    name: "adamw-onecycle-beta1",
    sizes: [48, 6],
    optimizer: { type: "adamw", options: { lr: 3e-3 } },
    scheduler: { type: "one_cycle", options: { maxLr: 1e-2, totalSteps: STEPS } },
    clip: { maxNorm: 2, normType: 1 },
  },
  {
    name: "sgd-onecycle-three-phase-linear",
    sizes: [20],
    optimizer: { type: "sgd", options: { lr: 0.01, momentum: 0.9 } },
    scheduler: {
      type: "one_cycle",
      options: { maxLr: 0.1, totalSteps: STEPS, threePhase: true, annealStrategy: "linear", pctStart: 0.25 },
    },
    clip: { maxNorm: 0.3, normType: Infinity },
  },
  {
    name: "adam-plateau",
    sizes: [16, 16],
    optimizer: { type: "adam", options: { lr: 1e-2 } },
    scheduler: { type: "plateau", options: { patience: 3, factor: 0.5, cooldown: 2, minLr: 1e-4 } },
  },
  {
    name: "adamw-large",
    sizes: [4099, 37],
    optimizer: { type: "adamw", options: { lr: 1e-3, weightDecay: 0.05, amsgrad: true } },
    clip: { maxNorm: 5 },
    recordEvery: 25,
  },
];

/** Deterministic float32 draws (mulberry32 + Box–Muller), so both sides see the same numbers. */
function normals(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

interface Inputs {
  initial: number[][];
  grads: number[][][];
  metrics: number[];
}

function inputs(c: ParityCase, seed: number): Inputs {
  const draw = normals(seed);
  const initial = c.sizes.map((n) => Array.from({ length: n }, () => Math.fround(draw())));
  // Mostly small gradients with a burst every 9th step, so clipping and AMSGrad's max both engage.
  const grads = Array.from({ length: STEPS }, (_, t) =>
    c.sizes.map((n) => Array.from({ length: n }, () => Math.fround(draw() * (t % 9 === 4 ? 8 : 0.3)))),
  );
  // A loss that improves, stalls (noisily), improves again: the plateau scheduler reduces a few times.
  const metrics = Array.from(
    { length: STEPS },
    (_, t) => (t < 30 ? 1 - t / 60 : t < 70 ? 0.5 : 0.45) + 1e-5 * draw(),
  );
  return { initial, grads, metrics };
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const snakeKeys = (o: object) => Object.fromEntries(Object.entries(o).map(([k, v]) => [snake(k), v]));

function torchCase(c: ParityCase, data: Inputs) {
  return {
    name: c.name,
    params: c.sizes.map((n, i) => ({ name: `p${i}`, shape: [n], data: data.initial[i] })),
    grads: data.grads,
    optimizer: { type: c.optimizer.type, ...snakeKeys(c.optimizer.options) },
    scheduler: c.scheduler ? { type: c.scheduler.type, ...snakeKeys(c.scheduler.options) } : null,
    metrics: data.metrics,
    // JSON has no Infinity; the script reads the norm type with float(), which accepts "Infinity".
    clip: c.clip ? { max_norm: c.clip.maxNorm, norm_type: String(c.clip.normType ?? 2) } : null,
    record_every: c.recordEvery ?? 1,
  };
}

interface StepRecord {
  norm: number | string | null;
  lr: number;
  momentum: number;
  params: (number | string)[][] | null;
}
interface TorchResult {
  name: string;
  initial_lr: number;
  initial_momentum: number;
  steps: StepRecord[];
}

function makeOptimizer(spec: OptimizerSpec, params: Parameter[]): Optimizer {
  if (spec.type === "sgd") return new SGD(params, spec.options);
  return spec.type === "adam" ? new Adam(params, spec.options) : new AdamW(params, spec.options);
}

function makeScheduler(spec: SchedulerSpec | undefined, opt: Optimizer): LrScheduler | undefined {
  switch (spec?.type) {
    case undefined:
      return undefined;
    case "step":
      return new StepLR(opt, spec.options);
    case "cosine_warmup":
      return new CosineWithWarmup(opt, spec.options);
    case "one_cycle":
      return new OneCycleLR(opt, spec.options);
    case "plateau":
      return new ReduceLROnPlateau(opt, spec.options);
  }
}

/** Our side of a case: the same record torch's script writes. */
function runOurs(
  c: ParityCase,
  data: Inputs,
): { initialLr: number; initialMomentum: number; steps: StepRecord[] } {
  const params = c.sizes.map((n, i) => ({
    name: `p${i}`,
    shape: [n],
    data: Float32Array.from(data.initial[i] ?? []),
    grad: new Float32Array(n),
  }));
  const opt = makeOptimizer(c.optimizer, params);
  const scheduler = makeScheduler(c.scheduler, opt);
  const initial = { initialLr: opt.lr, initialMomentum: opt.momentum };
  const steps = data.grads.map((grads, t) => {
    params.forEach((p, i) => {
      p.grad.set(grads[i] ?? []);
    });
    const norm = c.clip ? clipGradNorm(params, c.clip.maxNorm, c.clip.normType ?? 2) : null;
    opt.step();
    scheduler?.step(data.metrics[t]);
    const recorded = (t + 1) % (c.recordEvery ?? 1) === 0 || t === STEPS - 1;
    return {
      norm,
      lr: opt.lr,
      momentum: opt.momentum,
      params: recorded ? params.map((p) => [...p.data]) : null,
    };
  });
  return { ...initial, steps };
}

function runTorch(request: unknown): Promise<{ cases: TorchResult[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`torch_optim_reference.py exited ${code}: ${Buffer.concat(err)}`));
      else resolve(JSON.parse(Buffer.concat(out).toString("utf8")) as { cases: TorchResult[] });
    });
    child.stdin.end(JSON.stringify(request));
  });
}

const relative = (a: number, b: number, floor: number) => Math.abs(a - b) / Math.max(Math.abs(b), floor);

describe.skipIf(SKIP_REASON !== undefined)("optimisers, clipping and schedulers match torch.optim", () => {
  const data = CASES.map((c, i) => inputs(c, 1000 + i));
  let torch: TorchResult[] = [];

  beforeAll(async () => {
    torch = (await runTorch({ cases: CASES.map((c, i) => torchCase(c, data[i] as Inputs)) })).cases;
  }, 120_000);

  it.each(CASES.map((c, i) => [c.name, i] as const))("%s: 100 steps", (_name, i) => {
    const c = CASES[i] as ParityCase;
    const ref = torch[i] as TorchResult;
    const ours = runOurs(c, data[i] as Inputs);
    expect(relative(ours.initialLr, ref.initial_lr, 1e-300)).toBeLessThanOrEqual(LR_TOLERANCE);
    expect(relative(ours.initialMomentum, ref.initial_momentum, 1e-300)).toBeLessThanOrEqual(LR_TOLERANCE);
    let worstParam = 0;
    let exact = 0;
    let compared = 0;
    ours.steps.forEach((step, t) => {
      const want = ref.steps[t] as StepRecord;
      // torch extrapolates a linear one-cycle below 0 at t = totalSteps; we clamp (documented).
      const wantLr = c.scheduler?.type === "one_cycle" ? Math.max(0, want.lr) : want.lr;
      expect(relative(step.lr, wantLr, 1e-300), `lr at step ${t + 1}`).toBeLessThanOrEqual(LR_TOLERANCE);
      expect(relative(step.momentum, want.momentum, 1e-300), `momentum ${t + 1}`).toBeLessThanOrEqual(
        LR_TOLERANCE,
      );
      if (step.norm !== null) {
        expect(relative(step.norm as number, Number(want.norm), 1e-30), `norm ${t + 1}`).toBeLessThanOrEqual(
          NORM_TOLERANCE,
        );
      }
      step.params?.forEach((values, p) => {
        values.forEach((value, j) => {
          const target = Number(want.params?.[p]?.[j]);
          const error = relative(value as number, target, PARAM_FLOOR);
          worstParam = Math.max(worstParam, error);
          compared++;
          if (Object.is(value, target)) exact++;
        });
      });
    });
    console.info(
      `optim parity ${c.name}: max param error ${worstParam.toExponential(2)}, ${exact}/${compared} values bit-identical`,
    );
    expect(worstParam).toBeLessThanOrEqual(PARAM_TOLERANCE);
  });
});

if (SKIP_REASON) {
  describe("optimisers, clipping and schedulers match torch.optim", () => {
    it.skip(`skipped: ${SKIP_REASON}`, () => {});
  });
}
