/**
 * `npm run bench:trainer [-- --json] [-- --seconds S] [-- --repeats N]`: the Trainer's overhead over a
 * bare engine loop on the same model, data, seed and epoch order. Bundled-data-like sizes:
 * lstm_attention (hidden 64, one layer, no dropout, head "both"), window 64, 16 features, batch 64,
 * Adam lr 1e-3, gradient clip 1.0, 4,096 training and 1,024 validation windows (autoregressiveData).
 *
 * - bare: per epoch, `epochOrder`; per batch source.batch → packTargets → zero grads → forward
 *   (training) → forecastLoss → backward → clipGradNorm → Adam step; at each epoch end a no-grad
 *   forward + loss over the validation windows. No callbacks, metrics or checkpoints.
 * - trainer: `Trainer.fit` with the callbacks a real run (src/training/run/fit-job.ts) uses —
 *   EarlyStopping(val_loss, patience 10), ProgressDisplay writing nowhere, ModelCheckpoint (top-1 +
 *   last, every 5 minutes) on a MemoryCheckpointIO — and a metrics logger appending JSON lines to a temp
 *   file as RunDir.metricsLogger does.
 *
 * Validation is included in both (EarlyStopping and ModelCheckpoint need val_loss). Repeats are
 * interleaved (bare, trainer, bare, trainer, …); samples/s = training windows ÷ wall time of the whole
 * measurement (model construction and validation included). Goal: overhead < 5%. With --json the last
 * line is one JSON object {"model","bare_samples_per_s","trainer_samples_per_s","overhead_pct",...}.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Adam, clipGradNorm } from "../engine/optim/index.js";
import { Rng } from "../engine/random.js";
import { backward, noGrad, Tensor } from "../engine/tensor.js";
import type { ModelDefinition } from "../models/definition.js";
import { forecastLoss, packTargets } from "../models/heads.js";
import { createModel, type NamedWeights, weightsOf } from "../models/registry.js";
import { EarlyStopping, ModelCheckpoint, ProgressDisplay } from "../training/callbacks/index.js";
import { MemoryCheckpointIO } from "../training/checkpoint/memory.js";
import { epochOrder } from "../training/metrics.js";
import { RunDirectory } from "../training/run/run-dir.js";
import { dropoutSeed } from "../training/step-engine/types.js";
import { autoregressiveData } from "../training/testing.js";
import { Trainer, type TrainingData } from "../training/trainer.js";
import { fmt, median, numberArg } from "./stats.js";

const MODEL = "lstm_attention";
const WINDOW = 64;
const FEATURES = 16;
const BATCH = 64;
const TRAIN_SAMPLES = 4096;
const VALIDATION_SAMPLES = 1024;
const SEED = 7;
const LR = 1e-3;
const CLIP = 1.0;
const GOAL_PCT = 5;

interface Measurement {
  samplesPerS: number;
  seconds: number;
  weights: NamedWeights[];
}

/** The bare engine loop: what a step costs with nothing around it. */
function runBare(definition: ModelDefinition, data: TrainingData, epochs: number): Measurement {
  const started = performance.now();
  const model = createModel(definition, new Rng(SEED));
  const params = model.trainableParameters();
  const optimizer = new Adam(params, { lr: LR, weightDecay: 0 });
  const rng = new Rng(dropoutSeed(SEED, 0));
  const { io } = definition;
  const { source, trainIndices, validationIndices } = data;
  const batches = Math.ceil(trainIndices.length / BATCH);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = epochOrder(trainIndices, SEED, epoch);
    for (let b = 0; b < batches; b++) {
      const indices = order.subarray(b * BATCH, (b + 1) * BATCH);
      const batch = source.batch(indices);
      const targets = packTargets(batch.yReg, batch.yCls, io);
      optimizer.zeroGrad();
      const x = new Tensor(batch.x, [indices.length, io.window, io.features]);
      const loss = forecastLoss(model.forward(x, { training: true, rng }), targets, io.head);
      if (!Number.isFinite(loss.item())) throw new Error(`bare loop diverged at epoch ${epoch}, batch ${b}`);
      backward(loss);
      clipGradNorm(params, CLIP);
      optimizer.step();
    }
    for (const batch of source.batches(validationIndices, Math.max(BATCH, 256))) {
      const rows = batch.index.length;
      const targets = packTargets(batch.yReg, batch.yCls, io);
      noGrad(() =>
        forecastLoss(
          model.forward(new Tensor(batch.x, [rows, io.window, io.features]), { training: false }),
          targets,
          io.head,
        ).item(),
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { samplesPerS: (trainIndices.length * epochs) / seconds, seconds, weights: weightsOf(model) };
}

/** Trainer.fit with a real run's callbacks and metrics logger. */
async function runTrainer(
  definition: ModelDefinition,
  data: TrainingData,
  epochs: number,
  runsDir: string,
): Promise<Measurement> {
  const started = performance.now();
  const batchesPerEpoch = Math.ceil(data.trainIndices.length / BATCH);
  const trainer = new Trainer({
    epochs,
    batchSize: BATCH,
    seed: SEED,
    optimizer: { kind: "adam", lr: LR, weightDecay: 0 },
    gradientClip: CLIP,
    workers: 1,
    callbacks: [
      new EarlyStopping({ monitor: "val_loss", mode: "min", patience: 10 }),
      new ProgressDisplay({ epochs, batchesPerEpoch, write: () => {} }),
      new ModelCheckpoint({ monitor: "val_loss", mode: "min", saveTopK: 1, saveLast: true, everyMinutes: 5 }),
    ],
    checkpointIO: new MemoryCheckpointIO(),
    checkpointDir: "/bench/checkpoints",
    logger: await (await RunDirectory.create(runsDir)).metricsLogger("bench"),
    config: { job: "bench", model: definition },
    metadata: { job: "bench" },
    log: () => {},
  });
  const result = await trainer.fit(definition, data);
  if (result.status !== "completed") throw new Error(`trainer ended early: ${result.reason}`);
  const seconds = (performance.now() - started) / 1000;
  return {
    samplesPerS: (data.trainIndices.length * result.epochsCompleted) / seconds,
    seconds,
    weights: result.weights.map((w) => ({ name: w.name, shape: [...w.shape], data: w.data })),
  };
}

function maxAbsDiff(a: readonly NamedWeights[], b: readonly NamedWeights[]): number {
  let worst = 0;
  a.forEach((w, i) => {
    const other = b[i]?.data;
    if (other === undefined || other.length !== w.data.length) {
      worst = Number.POSITIVE_INFINITY;
      return;
    }
    for (let k = 0; k < w.data.length; k++)
      worst = Math.max(worst, Math.abs((w.data[k] as number) - (other[k] as number)));
  });
  return worst;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const seconds = numberArg(args, "--seconds", 5);
  const repeats = Math.round(numberArg(args, "--repeats", 5));

  const ar = autoregressiveData({
    samples: TRAIN_SAMPLES + VALIDATION_SAMPLES,
    window: WINDOW,
    phi: 0.5,
    seed: SEED,
    noiseFeatures: FEATURES - 1,
    validationShare: VALIDATION_SAMPLES / (TRAIN_SAMPLES + VALIDATION_SAMPLES),
  });
  const { data } = ar;
  const definition: ModelDefinition = {
    className: MODEL,
    io: { ...ar.io, head: "both" },
    config: { hidden_size: 64, num_layers: 1, dropout: 0 },
  };
  const dir = await mkdtemp(join(tmpdir(), "cryptoml-trainer-bench-"));
  const runsDir = join(dir, "runs");
  try {
    // Warm-up (JIT, wasm kernels) and calibration: one epoch of each; epochs per measurement ≈ S s.
    const warm = runBare(definition, data, 1);
    await runTrainer(definition, data, 1, runsDir);
    const epochs = Math.max(1, Math.round(seconds / warm.seconds));
    console.log(
      `bench:trainer — ${MODEL} H=64, window ${WINDOW}, ${FEATURES} features, batch ${BATCH}, Adam lr ${LR}, clip ${CLIP}; ` +
        `${data.trainIndices.length} train + ${data.validationIndices.length} validation windows; validation included in both; ` +
        `${epochs} epoch(s) per measurement, ${repeats} interleaved repeats, 1 worker`,
    );
    const bare: number[] = [];
    const trained: number[] = [];
    let weightDiff = Number.NaN;
    for (let r = 0; r < repeats; r++) {
      const b = runBare(definition, data, epochs);
      const t = await runTrainer(definition, data, epochs, runsDir);
      if (r === 0) weightDiff = maxAbsDiff(b.weights, t.weights);
      bare.push(b.samplesPerS);
      trained.push(t.samplesPerS);
      console.log(
        `  repeat ${r + 1}/${repeats}: bare ${fmt(b.samplesPerS)} samples/s (${b.seconds.toFixed(2)} s), ` +
          `trainer ${fmt(t.samplesPerS)} samples/s (${t.seconds.toFixed(2)} s)`,
      );
    }
    const bareMedian = median(bare);
    const trainerMedian = median(trained);
    const overheadPct = ((bareMedian - trainerMedian) / bareMedian) * 100;
    const ratio = trainerMedian / bareMedian;
    console.log(`bare loop    median ${fmt(bareMedian)} samples/s`);
    console.log(`Trainer.fit  median ${fmt(trainerMedian)} samples/s`);
    console.log(
      `overhead ${overheadPct.toFixed(2)}% (trainer/bare ${ratio.toFixed(3)}); goal: overhead < ${GOAL_PCT}% — ${overheadPct < GOAL_PCT ? "met" : "NOT met"}`,
    );
    console.log(`final weights, bare vs trainer (repeat 1): max |Δ| = ${weightDiff}`);
    if (json) {
      console.log(
        JSON.stringify({
          model: MODEL,
          bare_samples_per_s: Math.round(bareMedian),
          trainer_samples_per_s: Math.round(trainerMedian),
          overhead_pct: Number(overheadPct.toFixed(2)),
          ratio: Number(ratio.toFixed(4)),
          goal_overhead_pct: GOAL_PCT,
          validation: true,
          epochs_per_measurement: epochs,
          repeats,
          train_samples: data.trainIndices.length,
          validation_samples: data.validationIndices.length,
          batch_size: BATCH,
          weights_max_abs_diff: weightDiff,
        }),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
