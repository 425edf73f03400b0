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
import { DataParallelTrainer } from "../engine/parallel/index.js";
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

/** The async twin of `rate` for the worker pool. */
async function rateAsync(seconds: number, work: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await work();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await work();
    n++;
  }
  return (n * B) / ((performance.now() - start) / 1000);
}

/** Data-parallel: the batch split across `workers` threads, gradients averaged, same Adam update. */
async function measureParallel(
  name: ReferenceModelName,
  seconds: number,
  workers: number,
): Promise<OursResult> {
  const rng = new Rng(0);
  const x = randomTensor(rng, [B, T, F]).data;
  const y = randomTensor(rng, [B, 1]).data;
  const ddp = await DataParallelTrainer.create({
    workers,
    model: { name, seed: 0 },
    optimizer: { kind: "adam", lr: 1e-3 },
  });
  try {
    const train = await rateAsync(seconds, () => ddp.step(x, y, B));
    const infer = await rateAsync(seconds / 2, () => ddp.predict(x, B));
    return { train, infer, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await ddp.close();
  }
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

function runOurs(name: ReferenceModelName, seconds: number, workers: number): OursResult {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, [self, "--child", name, String(seconds), String(workers)], {
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`measuring ${name} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as OursResult;
}

const fmt = (n: number | undefined) => (n === undefined ? "-" : Math.round(n).toLocaleString("en-US"));

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    const [name, seconds, workers] = [args[1] as ReferenceModelName, Number(args[2]), Number(args[3])];
    const result = workers > 1 ? await measureParallel(name, seconds, workers) : measureOurs(name, seconds);
    process.stdout.write(`${JSON.stringify(result)}\n`);
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
    "model            ours train (1w/2w)   torch train (1t/2t)   ratio   ours infer (1w/2w)   torch infer (1t/2t)   ratio   peak RSS",
  );
  for (const name of REFERENCE_MODELS) {
    const one = runOurs(name, seconds, 1);
    const two = runOurs(name, seconds, 2);
    const t1 = typeof torch1 === "string" ? undefined : torch1[name];
    const t2 = typeof torch2 === "string" ? undefined : torch2[name];
    const oursTrain = Math.max(one.train, two.train);
    const oursInfer = Math.max(one.infer, two.infer);
    const torchTrain = Math.max(t1?.train_samples_per_s ?? 0, t2?.train_samples_per_s ?? 0) || undefined;
    const torchInfer = Math.max(t1?.infer_samples_per_s ?? 0, t2?.infer_samples_per_s ?? 0) || undefined;
    const trainRatio = torchTrain === undefined ? undefined : oursTrain / torchTrain;
    const inferRatio = torchInfer === undefined ? undefined : oursInfer / torchInfer;
    table[name] = {
      ours_train: Math.round(oursTrain),
      ours_infer: Math.round(oursInfer),
      ours_train_1w: Math.round(one.train),
      ours_train_2w: Math.round(two.train),
      ours_infer_1w: Math.round(one.infer),
      ours_infer_2w: Math.round(two.infer),
      torch_train: torchTrain ?? null,
      torch_infer: torchInfer ?? null,
      train_ratio: trainRatio === undefined ? null : Number(trainRatio.toFixed(3)),
      infer_ratio: inferRatio === undefined ? null : Number(inferRatio.toFixed(3)),
      peak_rss_mb: Math.round(Math.max(one.peakRssMb, two.peakRssMb)),
    };
    const pair = (a: number | undefined, b: number | undefined) => `${fmt(a)}/${fmt(b)}`.padStart(19);
    const ratioText = (r: number | undefined) => (r?.toFixed(2) ?? "-").padStart(6);
    const rss = `${Math.max(one.peakRssMb, two.peakRssMb).toFixed(0)} MB`.padStart(8);
    console.log(
      `${name.padEnd(15)} ${pair(one.train, two.train)}  ${pair(t1?.train_samples_per_s, t2?.train_samples_per_s)}  ${ratioText(trainRatio)}  ${pair(one.infer, two.infer)}  ${pair(t1?.infer_samples_per_s, t2?.infer_samples_per_s)}  ${ratioText(inferRatio)}  ${rss}`,
    );
  }
  console.log(
    "ratio = our best of 1 and 2 workers ÷ PyTorch's best of 1 and 2 threads; peak RSS of our process",
  );
  for (const note of notes) console.log(`reference: ${note}`);
  if (json) console.log(JSON.stringify({ models: table }));
}

await main();
