/**
 * Training throughput of DataParallelTrainer on the benchmark's lstm (B=64, T=64, F=16, H=64), for
 * each worker count given (default 1 and 2): `npm run build && node dist/engine/parallel/ddp-bench.js [1 2 4]`.
 * Worker counts are measured in interleaved rounds (each whole steps for about `SECONDS`), so load
 * from other processes on a shared machine hits them alike; prints the median and range per count.
 */
import { Rng } from "../random.js";
import { DataParallelTrainer } from "./trainer.js";

const BATCH = 64;
const SHAPE = { features: 16, window: 64, hidden: 64 };
const SECONDS = 5;
const ROUNDS = 3;
const WARMUP = 3;

async function measure(workers: number, x: Float32Array, y: Float32Array): Promise<number> {
  const ddp = await DataParallelTrainer.create({
    workers,
    model: { name: "lstm", shape: SHAPE, seed: 1 },
    optimizer: { kind: "adam", lr: 1e-3 },
  });
  try {
    for (let i = 0; i < WARMUP; i++) await ddp.step(x, y, BATCH);
    const start = performance.now();
    let steps = 0;
    while (performance.now() - start < SECONDS * 1000) {
      await ddp.step(x, y, BATCH);
      steps++;
    }
    return (steps * BATCH) / ((performance.now() - start) / 1000);
  } finally {
    await ddp.close();
  }
}

const rng = new Rng(0);
const x = new Float32Array(BATCH * SHAPE.window * SHAPE.features).map(() => rng.normal());
const y = new Float32Array(BATCH).map(() => rng.normal() * 0.5);
const args = process.argv.slice(2).map(Number);
const counts = args.length > 0 ? args : [1, 2];
const rates = new Map<number, number[]>(counts.map((c) => [c, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const workers of counts) rates.get(workers)?.push(await measure(workers, x, y));
}
for (const [workers, list] of rates) {
  const sorted = [...list].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const range = `${(sorted[0] as number).toFixed(0)}–${(sorted[sorted.length - 1] as number).toFixed(0)}`;
  console.log(
    `lstm B=${BATCH} T=64 F=16 H=64 workers=${workers}: median ${median.toFixed(0)} train samples/s (range ${range})`,
  );
}
