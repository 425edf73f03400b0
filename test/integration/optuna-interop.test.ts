/**
 * Optuna's journal, both ways, with the real Optuna 5.0 (test/peers/optuna_journal.py): a study cryptoml
 * writes is what Optuna's `load_study` sees — trials, states, params, distributions, values, intermediate
 * values — and a study Optuna writes (TPE, MedianPruner, pruned and failed trials) is what cryptoml
 * reads, continues, and hands back to Optuna. On a file (JournalFileBackend) and on Redis
 * (JournalRedisBackend against 127.0.0.1:6379).
 * Needs the peers venv with optuna and redis: `npm run test:peers` creates .venv-peers/.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { distributionToJson } from "../../src/tuning/distributions.js";
import { TrialPruned } from "../../src/tuning/errors.js";
import { MedianPruner } from "../../src/tuning/pruners/median.js";
import { RandomSampler } from "../../src/tuning/samplers/random.js";
import type { TuningStorage } from "../../src/tuning/storage.js";
import { JournalStorage } from "../../src/tuning/storages/journal.js";
import { parseOptunaDate, pythonJsonLoads } from "../../src/tuning/storages/journal-codec.js";
import { JournalFileBackend } from "../../src/tuning/storages/journal-file.js";
import { JournalRedisBackend } from "../../src/tuning/storages/journal-redis.js";
import { Study } from "../../src/tuning/study.js";
import type { FrozenTrial } from "../../src/tuning/types.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv-peers", "bin", "python");
const SCRIPT = join(ROOT, "test", "peers", "optuna_journal.py");
const REDIS_URL = "redis://127.0.0.1:6379";

const run = promisify(execFile);
const tempDir = useTempDirs();

interface PeerTrial {
  number: number;
  state: string;
  params: Record<string, unknown>;
  distributions: Record<string, unknown>;
  values: number[] | null;
  intermediate_values: Record<string, number>;
  user_attrs: Record<string, unknown>;
  system_attrs: Record<string, unknown>;
  datetime_start: string | null;
  datetime_complete: string | null;
}
interface PeerStudy {
  directions: string[];
  user_attrs: Record<string, unknown>;
  trials: PeerTrial[];
}

async function peer(args: string[]): Promise<PeerStudy> {
  const { stdout } = await run(PYTHON, [SCRIPT, ...args], { maxBuffer: 64 << 20 });
  return pythonJsonLoads(stdout) as PeerStudy;
}

const ms = (iso: string | null): number | null => (iso === null ? null : parseOptunaDate(iso).getTime());

/** Our trial in the shape the peer prints (times to the millisecond a Date holds). */
function asPeer(t: FrozenTrial) {
  return {
    number: t.number,
    state: t.state,
    params: t.params,
    distributions: Object.fromEntries(
      Object.entries(t.distributions).map(([k, d]) => [k, JSON.parse(distributionToJson(d))]),
    ),
    values: t.values ?? null,
    intermediate_values: Object.fromEntries([...t.intermediateValues].map(([s, v]) => [String(s), v])),
    user_attrs: t.userAttrs,
    system_attrs: t.systemAttrs,
    datetime_start: t.datetimeStart?.getTime() ?? null,
    datetime_complete: t.datetimeComplete?.getTime() ?? null,
  };
}

function fromPeer(t: PeerTrial) {
  return { ...t, datetime_start: ms(t.datetime_start), datetime_complete: ms(t.datetime_complete) };
}

/** A study with complete, pruned and failed trials and all three kinds of distribution. */
async function writeOurStudy(storage: TuningStorage, studyName: string): Promise<Study> {
  const study = await Study.create({
    storage,
    studyName,
    sampler: new RandomSampler({ seed: 7 }),
    onWarning: () => {},
  });
  await study.setUserAttr("written_by", "cryptoml");
  await study.optimize(
    async (trial) => {
      const x = await trial.suggestFloat("x", -5, 5);
      const lr = await trial.suggestFloat("lr", 1e-4, 1e-1, { log: true });
      const layers = await trial.suggestInt("layers", 1, 4);
      const units = await trial.suggestInt("units", 8, 64, { step: 8 });
      const act = await trial.suggestCategorical("act", ["relu", "tanh", null]);
      await trial.setUserAttr("note", `trial ${trial.number}`);
      for (let step = 0; step < 3; step++) await trial.report(x * x + lr + layers + units / 100 + step, step);
      if (trial.number === 2) throw new TrialPruned();
      if (trial.number === 4) throw new Error("failed on purpose");
      if (trial.number === 5) await trial.report(Number.NaN, 3);
      return (x - 1) ** 2 + (act === "relu" ? 0 : 0.5);
    },
    { nTrials: 8, catch: () => true },
  );
  return study;
}

type Backend = { spec: string; open: () => Promise<JournalStorage>; cleanup?: () => Promise<void> };

function fileBackend(): Backend {
  const path = join(tempDir(), "studies.log");
  return { spec: `file:${path}`, open: async () => new JournalStorage(await JournalFileBackend.open(path)) };
}

function redisBackend(): Backend {
  const prefix = `cryptoml-test-${randomUUID()}`;
  return {
    spec: `redis:${REDIS_URL}#${prefix}`,
    open: async () => new JournalStorage(await JournalRedisBackend.connect(REDIS_URL, { prefix })),
    cleanup: async () => {
      const backend = await JournalRedisBackend.connect(REDIS_URL, { prefix });
      await backend.destroy();
      await backend.close();
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe.each([
  ["file", fileBackend],
  ["redis", redisBackend],
])("Optuna journal interop on a %s", (_name, make) => {
  it("Optuna loads a study cryptoml wrote, trial for trial", async () => {
    const backend = make();
    if (backend.cleanup) cleanups.push(backend.cleanup);
    const storage = await backend.open();
    const study = await writeOurStudy(storage, "ours");
    const ours = await study.getTrials();
    await storage.close();
    expect(ours.map((t) => t.state)).toEqual([
      "COMPLETE",
      "COMPLETE",
      "PRUNED",
      "COMPLETE",
      "FAIL",
      "COMPLETE",
      "COMPLETE",
      "COMPLETE",
    ]);

    const theirs = await peer(["dump", backend.spec, "ours"]);
    expect(theirs.directions).toEqual(["minimize"]);
    expect(theirs.user_attrs).toEqual({ written_by: "cryptoml" });
    expect(theirs.trials.map(fromPeer)).toEqual(ours.map(asPeer));
    expect(theirs.trials[5]?.intermediate_values["3"]).toBeNaN();
  });

  it("cryptoml reads and continues a study Optuna wrote with TPE and MedianPruner", async () => {
    const backend = make();
    if (backend.cleanup) cleanups.push(backend.cleanup);
    const written = await peer(["write", backend.spec, "theirs", "14", "3"]);
    const states = new Set(written.trials.map((t) => t.state));
    expect(states).toContain("PRUNED");
    expect(states).toContain("FAIL");

    const storage = await backend.open();
    const study = await Study.load({
      storage,
      studyName: "theirs",
      pruner: new MedianPruner(),
      onWarning: () => {},
    });
    expect(study.directions).toEqual(["minimize"]);
    expect((await storage.getStudy(study.studyId)).userAttrs).toEqual({ written_by: "optuna" });
    expect((await study.getTrials()).map(asPeer)).toEqual(written.trials.map(fromPeer));

    // Continue it: the same search space, so Optuna's next TPE run accepts the distributions we wrote.
    await study.optimize(
      async (trial) => {
        const x = await trial.suggestFloat("x", -5, 5);
        const lr = await trial.suggestFloat("lr", 1e-4, 1e-1, { log: true });
        const layers = await trial.suggestInt("layers", 1, 4);
        const act = await trial.suggestCategorical("act", ["relu", "tanh", null]);
        for (let step = 0; step < 5; step++)
          await trial.report((x - 1) ** 2 + lr + layers + (act ? 0 : 1) + 1 / (step + 1), step);
        return (x - 1) ** 2 + lr + layers;
      },
      { nTrials: 4 },
    );
    const continued = await study.getTrials();
    await storage.close();
    expect(continued).toHaveLength(18);

    const after = await peer(["continue", backend.spec, "theirs", "3", "5"]);
    expect(after.trials).toHaveLength(21);
    expect(after.trials.slice(0, 18).map(fromPeer)).toEqual(continued.map(asPeer));
    expect(after.trials.map((t) => t.number)).toEqual([...Array(21).keys()]);

    const reread = await backend.open();
    const studyId = await reread.getStudyIdFromName("theirs");
    expect((await reread.getAllTrials(studyId)).map(asPeer)).toEqual(after.trials.map(fromPeer));
    await reread.close();
  });
});
