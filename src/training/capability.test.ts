/**
 * Capability of every model type, through the Trainer: each can (1) overfit 512 samples of random
 * targets, its training loss falling below 1% of where it started, and (2) recover a known signal,
 * its validation R² on an AR(1) series reaching 90% of the best achievable R² (φ²).
 * Small models, no dropout, no clipping, Adam; fixed seeds, so every run is the same.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../engine/random.js";
import { noGrad, Tensor } from "../engine/tensor.js";
import type { ModelDefinition, ModelIo } from "../models/definition.js";
import { createModel, loadWeights, type NamedWeights, weightsOf } from "../models/registry.js";
import { ArrayBatchSource, autoregressiveData } from "./testing.js";
import { type FitResult, Trainer, type TrainingData } from "./trainer.js";

type Single = "lstm" | "gru" | "lstm_attention" | "cnn_lstm" | "transformer";

/** Small versions of each architecture for `io` (hidden 32, one layer, dropout 0). */
function definition(className: Single, io: ModelIo): ModelDefinition {
  switch (className) {
    case "lstm":
    case "gru":
    case "lstm_attention":
      return { className, config: { hidden_size: 32, num_layers: 1, dropout: 0 }, io };
    case "cnn_lstm":
      return { className, config: { conv_channels: 16, kernel_size: 3, hidden_size: 32, dropout: 0 }, io };
    case "transformer":
      return { className, config: { d_model: 32, heads: 4, layers: 1, feed_forward: 64, dropout: 0 }, io };
  }
}

/** A stacked ensemble of a lstm and a gru, starting from their trained weights (as fit-job assembles it). */
function stackedEnsemble(
  io: ModelIo,
  members: readonly { definition: ModelDefinition; weights: readonly NamedWeights[] }[],
  seed: number,
): { definition: ModelDefinition; weights: NamedWeights[] } {
  const ensemble: ModelDefinition = {
    className: "ensemble",
    config: { method: "stacked", members: members.map((m) => m.definition) },
    io,
  };
  const byName = new Map(
    members.flatMap((m, i) =>
      m.weights.map((w) => [`members.${i}.${w.name}`, { ...w, name: `members.${i}.${w.name}` }]),
    ),
  );
  const weights = weightsOf(createModel(ensemble, new Rng(seed))).map((w) => byName.get(w.name) ?? w);
  expect(weights.filter((w) => w.name.startsWith("members.")).length).toBe(byName.size);
  return { definition: ensemble, weights };
}

interface Trained {
  readonly definition: ModelDefinition;
  readonly result: FitResult;
  /** The loss of the first step (the untrained model on its first batch). */
  readonly firstLoss: number;
}

async function train(
  definition: ModelDefinition,
  data: TrainingData,
  settings: { epochs: number; batchSize: number; lr: number; seed?: number; initialWeights?: NamedWeights[] },
): Promise<Trained> {
  const losses: number[] = [];
  const result = await new Trainer({
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    seed: settings.seed ?? 7,
    optimizer: { kind: "adam", lr: settings.lr, weightDecay: 0 },
    gradientClip: 0,
    checkpointDir: "/ckpt",
    callbacks: [{ onStepEnd: (s) => void losses.push(s.metrics.loss as number) }],
    ...(settings.initialWeights === undefined ? {} : { initialWeights: settings.initialWeights }),
  }).fit(definition, data);
  expect(result.status).toBe("completed");
  return { definition, result, firstLoss: losses[0] as number };
}

/** The regression predictions of the trained model (evaluation mode) for `indices`. */
function predict(
  trained: { definition: ModelDefinition; weights: readonly NamedWeights[] },
  source: ArrayBatchSource,
  indices: Int32Array,
) {
  const model = createModel(trained.definition, new Rng(0));
  loadWeights(model, trained.weights);
  const batch = source.batch(indices);
  const out = noGrad(() => model.forward(new Tensor(batch.x, batch.shape)));
  return { predictions: out.data, targets: batch.yReg };
}

function meanSquaredError(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let sse = 0;
  for (let i = 0; i < y.length; i++) sse += ((p[i] as number) - (y[i] as number)) ** 2;
  return sse / y.length;
}

function rSquared(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += (y[i] as number) / y.length;
  let sst = 0;
  for (let i = 0; i < y.length; i++) sst += ((y[i] as number) - mean) ** 2;
  return 1 - (meanSquaredError(p, y) * y.length) / sst;
}

/** Trains each key once per file, so the ensemble reuses the members its own tests trained. */
function memo<T>(make: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = make(key);
      cache.set(key, hit);
    }
    return hit;
  };
}

const SINGLES: readonly Single[] = ["lstm", "gru", "lstm_attention", "cnn_lstm", "transformer"];

// --- 1. Overfit: 512 windows of N(0, 1) values, each with an N(0, 1) target unrelated to it -------------

const OVERFIT_IO: ModelIo = { window: 8, features: 3, head: "regression", returnScale: 1 };
const OVERFIT_SAMPLES = 512;
const overfitData: TrainingData = (() => {
  const rng = new Rng(3);
  const x = new Float32Array(OVERFIT_SAMPLES * OVERFIT_IO.window * OVERFIT_IO.features);
  rng.fillNormal(x);
  const y = new Float32Array(OVERFIT_SAMPLES);
  rng.fillNormal(y);
  return {
    source: new ArrayBatchSource(x, y, OVERFIT_IO.window, OVERFIT_IO.features),
    trainIndices: Int32Array.from({ length: OVERFIT_SAMPLES }, (_, i) => i),
    validationIndices: new Int32Array(0),
  };
})();
/**
 * Adam settings per architecture: batches of 256 at lr 1e-2 for the recurrent ones; attention needs
 * more epochs, and the transformer at 1e-2 keeps spiking (its last-epoch loss swings by 10×), so it
 * takes smaller batches at 3e-3 (it still spikes now and then on its way down: the epoch count is
 * where it reliably sits at ~6e-4 of its start, with these seeds).
 */
const OVERFIT_SETTINGS: Record<Single, { epochs: number; batchSize: number; lr: number }> = {
  lstm: { epochs: 150, batchSize: 256, lr: 0.01 },
  gru: { epochs: 150, batchSize: 256, lr: 0.01 },
  lstm_attention: { epochs: 250, batchSize: 256, lr: 0.01 },
  cnn_lstm: { epochs: 150, batchSize: 256, lr: 0.01 },
  transformer: { epochs: 300, batchSize: 128, lr: 0.003 },
};
const overfit = memo((name) =>
  train(definition(name as Single, OVERFIT_IO), overfitData, OVERFIT_SETTINGS[name as Single]),
);
const finalTrainLoss = (t: Trained) => t.result.history.at(-1)?.train_loss as number;

describe("capability: overfitting 512 samples", () => {
  it.each(SINGLES)("%s: the training loss falls below 1% of its start", async (name) => {
    const trained = await overfit(name);
    const ratio = finalTrainLoss(trained) / trained.firstLoss;
    expect(ratio).toBeLessThan(0.01);
  });

  it("ensemble (stacked lstm + gru): the training loss falls below 1% of the untrained members' and matches the best member", async () => {
    // An ensemble's members are frozen: only its blend (a linear map of the members' outputs) trains,
    // so it cannot memorise anything its members did not. Its "start" is therefore the members' start:
    // the members (fresh, random) are first overfit on the same 512 samples by the Trainer, then the
    // blend is trained from the mean of their outputs. The ensemble must end below 1% of the untrained
    // members' first-step loss (the smaller of the two), and match its best member: the blend can
    // always pick that member, so its loss may exceed the best member's only by 1e-5 of the start (Adam
    // at a fixed lr moves the two nearly collinear blend weights apart slowly and jitters around the
    // optimum). The mean blend it starts from is ~50× that margin away, so the blend must really train.
    const members = [await overfit("lstm"), await overfit("gru")];
    const { definition: ensemble, weights } = stackedEnsemble(
      OVERFIT_IO,
      members.map((m) => ({ definition: m.definition, weights: m.result.weights })),
      7,
    );
    const trained = await train(ensemble, overfitData, {
      epochs: 400,
      batchSize: 256,
      lr: 0.01,
      initialWeights: weights,
    });
    const start = Math.min(...members.map((m) => m.firstLoss));
    const all = overfitData.trainIndices;
    const source = overfitData.source as ArrayBatchSource;
    const memberLoss = Math.min(
      ...members.map((m) => {
        const { predictions, targets } = predict(
          { definition: m.definition, weights: m.result.weights },
          source,
          all,
        );
        return meanSquaredError(predictions, targets);
      }),
    );
    const { predictions, targets } = predict(
      { definition: ensemble, weights: trained.result.weights },
      source,
      all,
    );
    const ensembleLoss = meanSquaredError(predictions, targets);
    expect(finalTrainLoss(trained) / start).toBeLessThan(0.01);
    expect(ensembleLoss - memberLoss).toBeLessThanOrEqual(1e-5 * start);
  });
});

// --- 2. Signal recovery: an AR(1) series with φ = 0.7, whose best predictor explains φ² = 49% ----------

// 2250 training and 750 validation samples (features: the series and one noise column). 16 epochs of
// batches of 128 at Adam 2e-3: the transformer sits near "predict the mean" for ~6 epochs before it
// finds the last step (at 3e-3 with batches of 64 its validation loss still jumps at the end).
const AR = autoregressiveData({ samples: 3000, window: 8, phi: 0.7, seed: 21 });
const AR_IO: ModelIo = { ...AR.io, head: "regression" };
const recover = memo((name) =>
  train(definition(name as Single, AR_IO), AR.data, {
    epochs: 16,
    batchSize: 128,
    lr: 0.002,
  }),
);
function validationR2(definition: ModelDefinition, weights: readonly NamedWeights[]): number {
  const { predictions, targets } = predict({ definition, weights }, AR.source, AR.data.validationIndices);
  return rSquared(predictions, targets);
}

describe("capability: recovering an AR(1) signal", () => {
  const target = 0.9 * AR.achievableR2;

  it.each(SINGLES)(
    `%s: validation R² reaches 90% of the achievable ${AR.achievableR2.toFixed(2)}`,
    async (name) => {
      const trained = await recover(name);
      const r2 = validationR2(trained.definition, trained.result.weights);
      expect(r2).toBeGreaterThanOrEqual(target);
    },
  );

  it("ensemble (stacked lstm + gru): validation R² reaches 90% of the achievable", async () => {
    const members = [await recover("lstm"), await recover("gru")];
    const { definition: ensemble, weights } = stackedEnsemble(
      AR_IO,
      members.map((m) => ({ definition: m.definition, weights: m.result.weights })),
      7,
    );
    const trained = await train(ensemble, AR.data, {
      epochs: 3,
      batchSize: 128,
      lr: 0.002,
      initialWeights: weights,
    });
    const r2 = validationR2(ensemble, trained.result.weights);
    expect(r2).toBeGreaterThanOrEqual(target);
  });
});
