/**
 * `npm run bench:tune [-- --json] [-- --seeds N] [-- --trials N]`: quality and overhead of our TPE
 * sampler on the anchors' HPO benchmark (../shared/anchors/README.md: branin, hartmann6, rosenbrock5,
 * mixed — same search spaces), beside Optuna running the anchors' optuna_reference.py in the same
 * invocation. Quality: the median over seeds of the best value after 25/50/100/200 trials. Overhead:
 * seconds per trial (sampling + storage) between trials 900 and 1000 on `mixed`. Both sides run the
 * whole Study (ask/tell over an in-memory storage), not the bare sampler.
 *
 * Goals: ours at least as good as Optuna at 100 and 200 trials on ≥ 3 of the 4 functions and never more
 * than 10% worse, where "10% worse" is ours − optuna > 0.1 · max(|optuna|, 0.01) (the absolute floor
 * keeps a near-zero optimum from turning noise into a miss); and our seconds/trial near 1000 lower.
 * With --json the last line is {"functions":{name:{"ours":{"25":…},"optuna":{…}}},"seconds_per_trial":{…}}.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TPESampler } from "../tuning/samplers/tpe.js";
import { InMemoryStorage } from "../tuning/storages/memory.js";
import { Study } from "../tuning/study.js";
import type { Trial } from "../tuning/trial.js";
import { median } from "./stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHECKPOINTS = [25, 50, 100, 200] as const;
/** Absolute floor (objective units) under |optuna| when judging "more than 10% worse". */
const WORSE_FLOOR = 0.01;

type Objective = (t: Trial) => Promise<number>;

const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];
const H6_ALPHA = [1.0, 1.2, 3.0, 3.2];
const ARCH: Record<string, number> = {
  lstm: 0,
  gru: 0.15,
  lstm_attention: 0.05,
  cnn_lstm: 0.3,
  transformer: 0.4,
};

export const FUNCTIONS: Record<string, Objective> = {
  async branin(t) {
    const x1 = await t.suggestFloat("x1", -5, 10);
    const x2 = await t.suggestFloat("x2", 0, 15);
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
  },
  async hartmann6(t) {
    const x: number[] = [];
    for (let i = 0; i < 6; i++) x.push(await t.suggestFloat(`x${i}`, 0, 1));
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++)
        inner += (H6_A[i]?.[j] as number) * ((x[j] as number) - (H6_P[i]?.[j] as number)) ** 2;
      sum += (H6_ALPHA[i] as number) * Math.exp(-inner);
    }
    return -sum;
  },
  async rosenbrock5(t) {
    const x: number[] = [];
    for (let i = 0; i < 5; i++) x.push(await t.suggestFloat(`x${i}`, -2, 2));
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      const a = x[i] as number;
      const b = x[i + 1] as number;
      sum += 100 * (b - a * a) ** 2 + (1 - a) ** 2;
    }
    return sum;
  },
  async mixed(t) {
    const lr = await t.suggestFloat("lr", 1e-5, 1e-1, { log: true });
    const units = await t.suggestInt("units", 16, 256);
    const dropout = await t.suggestFloat("dropout", 0, 0.5);
    const arch = await t.suggestCategorical("arch", Object.keys(ARCH));
    return (
      (Math.log10(lr) + 3) ** 2 + ((units - 96) / 64) ** 2 + 4 * (dropout - 0.2) ** 2 + (ARCH[arch] as number)
    );
  },
};

async function newStudy(seed: number): Promise<Study> {
  return Study.create({
    storage: new InMemoryStorage(),
    sampler: new TPESampler({ seed }),
    onWarning: () => {},
  });
}

/** Median over seeds of the best value after each checkpoint (as optuna_reference.py's `quality`). */
async function quality(fn: Objective, seeds: number, trials: number): Promise<Record<string, number>> {
  const checkpoints = CHECKPOINTS.filter((c) => c <= trials);
  const bestAt = new Map<number, number[]>(checkpoints.map((c) => [c, []]));
  for (let seed = 0; seed < seeds; seed++) {
    const study = await newStudy(seed);
    await study.optimize(fn, { nTrials: trials });
    const values = (await study.getTrials()).map((t) => t.values?.[0] ?? Number.POSITIVE_INFINITY);
    for (const c of checkpoints) bestAt.get(c)?.push(Math.min(...values.slice(0, c)));
  }
  return Object.fromEntries(checkpoints.map((c) => [String(c), median(bestAt.get(c) ?? [])]));
}

/** Seconds per trial over the last 100 of `trials` trials on `mixed`. */
async function overhead(trials: number): Promise<number> {
  const study = await newStudy(0);
  const mixed = FUNCTIONS.mixed as Objective;
  await study.optimize(mixed, { nTrials: trials - 100 });
  const start = performance.now();
  await study.optimize(mixed, { nTrials: 100 });
  return (performance.now() - start) / 1000 / 100;
}

interface OptunaResult {
  quality: Record<string, Record<string, number>>;
  seconds: number;
  version: string;
}

function findOptunaReference(): string | undefined {
  const candidates = [process.env.CRYPTOML_ANCHORS, resolve(ROOT, "..", "shared", "anchors")].filter(
    (dir): dir is string => dir !== undefined && dir !== "",
  );
  return candidates.map((dir) => join(dir, "optuna_reference.py")).find((path) => existsSync(path));
}

/** Optuna's numbers from the anchors' script, or why there are none. */
function runOptuna(seeds: number, trials: number, overheadTrials: number): OptunaResult | string {
  const python = join(ROOT, ".venv-peers", "bin", "python");
  const script = findOptunaReference();
  if (!existsSync(python))
    return "no .venv-peers (run `npm run test:peers`, or `.venv-peers/bin/pip install optuna`)";
  if (script === undefined)
    return "optuna_reference.py not found (set CRYPTOML_ANCHORS to the anchors folder)";
  const args = [script, "--json", "--seeds", String(seeds), "--trials", String(trials)];
  args.push("--overhead-trials", String(overheadTrials));
  const run = spawnSync(python, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (run.status !== 0) return `optuna_reference.py failed: ${run.stderr.trim().split("\n").pop()}`;
  const out = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}");
  return {
    quality: out.quality,
    seconds: out[`seconds_per_trial_at_${overheadTrials}`],
    version: out.optuna,
  };
}

function argValue(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} needs a positive integer, got ${args[at + 1]}`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const seeds = argValue(args, "--seeds", 20);
  const trials = argValue(args, "--trials", 200);
  const overheadTrials = 1000;

  const ours: Record<string, Record<string, number>> = {};
  for (const [name, fn] of Object.entries(FUNCTIONS)) {
    const t0 = performance.now();
    ours[name] = await quality(fn, seeds, trials);
    if (!json)
      console.log(
        `ours ${name}: ${JSON.stringify(ours[name])} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
  }
  const oursSeconds = await overhead(overheadTrials);
  const optuna = runOptuna(seeds, trials, overheadTrials);
  if (typeof optuna === "string") console.log(`optuna: skipped — ${optuna}`);

  const header = ["function", ...CHECKPOINTS.flatMap((c) => [`ours@${c}`, `optuna@${c}`])];
  const fmt = (x: number | undefined): string => (x === undefined ? "-" : x.toPrecision(4));
  console.log(header.map((h) => h.padStart(12)).join(""));
  for (const name of Object.keys(FUNCTIONS)) {
    const theirs = typeof optuna === "string" ? undefined : optuna.quality[name];
    const row = [name, ...CHECKPOINTS.flatMap((c) => [fmt(ours[name]?.[c]), fmt(theirs?.[c])])];
    console.log(row.map((h) => h.padStart(12)).join(""));
  }
  const theirSeconds = typeof optuna === "string" ? undefined : optuna.seconds;
  console.log(
    `seconds/trial near ${overheadTrials} on mixed: ours ${oursSeconds.toFixed(5)}, optuna ${fmt(theirSeconds)}`,
  );

  if (typeof optuna !== "string") {
    let asGood = 0;
    let worst = "";
    for (const name of Object.keys(FUNCTIONS)) {
      const checks = [100, 200].filter((c) => c <= trials);
      const a = checks.map((c) => ours[name]?.[String(c)] as number);
      const b = checks.map((c) => optuna.quality[name]?.[String(c)] as number);
      if (a.every((x, i) => x <= (b[i] as number))) asGood++;
      a.forEach((x, i) => {
        const y = b[i] as number;
        if (x - y > 0.1 * Math.max(Math.abs(y), WORSE_FLOOR)) worst += ` ${name}@${checks[i]}`;
      });
    }
    console.log(
      `goal: at least as good at 100 and 200 trials on >= 3 of 4: ${asGood}/4 ${asGood >= 3 ? "PASS" : "MISS"}`,
    );
    console.log(
      `goal: never > 10% worse (floor ${WORSE_FLOOR}): ${worst === "" ? "PASS" : `MISS at${worst}`}`,
    );
    console.log(`goal: seconds/trial lower: ${oursSeconds < optuna.seconds ? "PASS" : "MISS"}`);
  }
  if (json) {
    const functions = Object.fromEntries(
      Object.keys(FUNCTIONS).map((name) => [
        name,
        { ours: ours[name], optuna: typeof optuna === "string" ? null : (optuna.quality[name] ?? null) },
      ]),
    );
    console.log(
      JSON.stringify({ functions, seconds_per_trial: { ours: oursSeconds, optuna: theirSeconds ?? null } }),
    );
  }
}

// Only when run as the bench script, so tests can import FUNCTIONS.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
