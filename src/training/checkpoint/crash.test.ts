/**
 * A crash mid-write never leaves a torn checkpoint: a child process rewrites a large checkpoint in a
 * loop and is killed with SIGKILL at random moments; afterwards the file must read back as a complete
 * checkpoint (the old one or a newer one, its weights consistent with its step) and only it is listed.
 * The child imports the built module, so this suite needs `npm run build` first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCheckpointIO } from "./local.js";
import { CHECKPOINT_VERSION, type CheckpointState } from "./state.js";

const BUILT = resolve("dist/training/checkpoint/index.js");
const SIZE = 4_000_000; // 16 MB of weights: long enough a write that kills land inside it
const ROUNDS = 10;

/** The checkpoint of `step`; every weight value is derived from the step so a mix of two is detectable. */
const STATE_SOURCE = `(step, size) => {
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = (i % 1000) + step;
  return {
    version: ${CHECKPOINT_VERSION}, createdAt: new Date(0).toISOString(), step, epoch: 0, positionInEpoch: step,
    weights: [{ name: "big", shape: [size], data }], optimizer: { step }, scheduler: null, rng: { step },
    callbacks: {}, config: { size }, metadata: { step: String(step) },
  };
}`;
const makeState = new Function(`return ${STATE_SOURCE}`)() as (step: number, size: number) => CheckpointState;

const CHILD = `
import { LocalCheckpointIO } from ${JSON.stringify(pathToFileURL(BUILT).href)};
const makeState = ${STATE_SOURCE};
const io = new LocalCheckpointIO();
const path = process.env.CKPT_PATH;
let step = Number(process.env.CKPT_BASE);
process.stdout.write("ready\\n");
for (;;) await io.write(path, makeState(++step, ${SIZE}));
`;

function isConsistent(state: CheckpointState): boolean {
  const [weight] = state.weights;
  if (state.weights.length !== 1 || weight === undefined || weight.data.length !== SIZE) return false;
  if (state.metadata.step !== String(state.step) || (state.rng as { step: number }).step !== state.step)
    return false;
  for (let i = 0; i < SIZE; i++) if (weight.data[i] !== Math.fround((i % 1000) + state.step)) return false;
  return true;
}

async function killAtRandom(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  await new Promise<void>((ready, failed) => {
    child.stdout?.once("data", () => ready());
    child.once("exit", (code) => failed(new Error(`writer exited early with code ${code}`)));
  });
  await new Promise((wait) => setTimeout(wait, Math.random() * 300));
  child.kill("SIGKILL");
  await exited;
}

describe("a crash while writing a checkpoint", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cryptoml-crash-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves the old checkpoint or the new one, never a torn one", async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`);
    const io = new LocalCheckpointIO();
    const path = join(dir, "last.safetensors");
    await io.write(path, makeState(0, SIZE));
    let previous = 0;
    let activity = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
        env: { ...process.env, CKPT_PATH: path, CKPT_BASE: String(previous) },
        stdio: ["ignore", "pipe", "inherit"],
      });
      await killAtRandom(child);
      const state = await io.read(path);
      expect(state.step).toBeGreaterThanOrEqual(previous);
      expect(isConsistent(state)).toBe(true);
      expect(await io.list(dir)).toEqual([path]);
      if (state.step !== previous) activity++;
      const leftovers = await io.cleanTemporaries(dir);
      activity += leftovers.length;
      previous = state.step;
      expect(await readdir(dir)).toEqual(["last.safetensors"]);
    }
    // The kills must have landed while the writer was busy, or the test proved nothing.
    expect(activity).toBeGreaterThan(0);
  });
});
