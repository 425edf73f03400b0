/**
 * `npm run bench:engine [-- --json] [-- --seconds S]`: training and inference throughput of the five
 * reference models (../shared/anchors/README.md shapes: B=64, T=64, F=16, H=64, Adam lr 1e-3, MSE on
 * one output) on cryptoml's engine, beside PyTorch running the anchors' torch_reference.py in the same
 * invocation (1 and 2 threads). Each of our measurements runs in its own process, so its peak memory
 * is its own. With --json the last line is one JSON object:
 * {"models":{"lstm":{"train_ratio","infer_ratio","ours_train","torch_train",...},...}}.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mseLoss } from "../engine/ops/losses.js";
import { Adam } from "../engine/optim/index.js";
import { Rng } from "../engine/random.js";
import { backward, noGrad, Tensor } from "../engine/tensor.js";
import { createReferenceModel, REFERENCE_MODELS, type ReferenceModelName } from "../models/reference.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const B = 64;
const T = 64;
const F = 16;

interface OursResult {
  train: number;
  infer: number;
  peakRssMb: number;
}

interface TorchModels {
  [model: string]: { train_samples_per_s: number; infer_samples_per_s: number };
}

function randomTensor(rng: Rng, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new Tensor(data, shape);
}

/** Steps (or forwards) per second over `seconds`, after three warm-up calls, as samples/s. */
function rate(seconds: number, work: () => void): number {
  for (let i = 0; i < 3; i++) work();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    work();
    n++;
  }
  return (n * B) / ((performance.now() - start) / 1000);
}

function measureOurs(name: ReferenceModelName, seconds: number): OursResult {
  const rng = new Rng(0);
  const model = createReferenceModel(name, rng);
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const x = randomTensor(rng, [B, T, F]);
  const y = randomTensor(rng, [B, 1]);
  const train = rate(seconds, () => {
    optimizer.zeroGrad();
    backward(mseLoss(model.forward(x), y));
    optimizer.step();
  });
  const infer = rate(seconds / 2, () => noGrad(() => model.forward(x)));
  return { train, infer, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

function anchorsScript(): string | undefined {
  const candidates = [process.env.CRYPTOML_ANCHORS, resolve(ROOT, "..", "shared", "anchors")].filter(
    (dir): dir is string => dir !== undefined,
  );
  return candidates.map((dir) => join(dir, "torch_reference.py")).find((path) => existsSync(path));
}

function runTorch(threads: number, seconds: number): TorchModels | string {
  const python = join(ROOT, ".venv-peers", "bin", "python");
  const script = anchorsScript();
  if (!existsSync(python)) return "no .venv-peers (run `npm run test:peers`)";
  if (script === undefined)
    return "torch_reference.py not found (set CRYPTOML_ANCHORS to the anchors folder)";
  const run = spawnSync(
    python,
    [script, "--threads", String(threads), "--seconds", String(seconds), "--json"],
    {
      encoding: "utf8",
      env: { ...process.env, OPENBLAS_NUM_THREADS: "1" },
    },
  );
  if (run.status !== 0) return `torch_reference.py failed: ${run.stderr.trim().split("\n").pop()}`;
  return (JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { models: TorchModels }).models;
}

function runOurs(name: ReferenceModelName, seconds: number): OursResult {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, [self, "--child", name, String(seconds)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`measuring ${name} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as OursResult;
}

const fmt = (n: number | undefined) => (n === undefined ? "-" : Math.round(n).toLocaleString("en-US"));

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    process.stdout.write(`${JSON.stringify(measureOurs(args[1] as ReferenceModelName, Number(args[2])))}\n`);
    return;
  }
  const json = args.includes("--json");
  const secondsAt = args.indexOf("--seconds");
  const seconds = secondsAt >= 0 ? Number(args[secondsAt + 1]) : 4;
  const torch1 = runTorch(1, seconds);
  const torch2 = runTorch(2, seconds);
  const notes = [torch1, torch2].filter((t): t is string => typeof t === "string");
  const table: Record<string, Record<string, number | null>> = {};
  console.log(
    `bench:engine — B=${B}, T=${T}, F=${F}, H=64, Adam lr 1e-3; ${seconds} s per measurement; samples/s`,
  );
  console.log(
    "model            ours train  torch train (1t/2t)   ratio   ours infer  torch infer (1t/2t)   ratio   peak RSS",
  );
  for (const name of REFERENCE_MODELS) {
    const ours = runOurs(name, seconds);
    const t1 = typeof torch1 === "string" ? undefined : torch1[name];
    const t2 = typeof torch2 === "string" ? undefined : torch2[name];
    const torchTrain = Math.max(t1?.train_samples_per_s ?? 0, t2?.train_samples_per_s ?? 0) || undefined;
    const torchInfer = Math.max(t1?.infer_samples_per_s ?? 0, t2?.infer_samples_per_s ?? 0) || undefined;
    const trainRatio = torchTrain === undefined ? undefined : ours.train / torchTrain;
    const inferRatio = torchInfer === undefined ? undefined : ours.infer / torchInfer;
    table[name] = {
      ours_train: Math.round(ours.train),
      ours_infer: Math.round(ours.infer),
      torch_train: torchTrain ?? null,
      torch_infer: torchInfer ?? null,
      train_ratio: trainRatio === undefined ? null : Number(trainRatio.toFixed(3)),
      infer_ratio: inferRatio === undefined ? null : Number(inferRatio.toFixed(3)),
      peak_rss_mb: Math.round(ours.peakRssMb),
    };
    console.log(
      `${name.padEnd(15)} ${fmt(ours.train).padStart(11)}  ${`${fmt(t1?.train_samples_per_s)}/${fmt(t2?.train_samples_per_s)}`.padStart(19)}  ${(trainRatio?.toFixed(2) ?? "-").padStart(6)}  ${fmt(ours.infer).padStart(11)}  ${`${fmt(t1?.infer_samples_per_s)}/${fmt(t2?.infer_samples_per_s)}`.padStart(19)}  ${(inferRatio?.toFixed(2) ?? "-").padStart(6)}  ${`${ours.peakRssMb.toFixed(0)} MB`.padStart(8)}`,
    );
  }
  console.log(
    "ratio = our samples/s ÷ PyTorch's best of 1 and 2 threads; ours runs one worker (data-parallel workers: see docs/engine.md)",
  );
  for (const note of notes) console.log(`reference: ${note}`);
  if (json) console.log(JSON.stringify({ models: table }));
}

await main();
