import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataFormatError } from "../../core/errors.js";
import type { CheckpointIO } from "./io.js";
import { LocalCheckpointIO } from "./local.js";
import { MemoryCheckpointIO } from "./memory.js";
import { CHECKPOINT_VERSION, type CheckpointState, encodeCheckpoint } from "./state.js";

function sampleState(step: number, size = 6): CheckpointState {
  return {
    version: CHECKPOINT_VERSION,
    createdAt: "2026-01-02T03:04:05.000Z",
    step,
    epoch: 2,
    positionInEpoch: 17,
    weights: [
      {
        name: "lin.weight",
        shape: [2, size / 2],
        data: Float32Array.from({ length: size }, (_, i) => step + i / 8),
      },
      { name: "lin.bias", shape: [2], data: Float32Array.from([Number.NaN, -0]) },
    ],
    optimizer: { format: 1, kind: "adam", step },
    scheduler: null,
    rng: { kind: "xoshiro128**", s: [1, 2, 3, 4], spare: null },
    callbacks: { earlyStopping: { best: 0.5, wait: 1 } },
    config: { model: { className: "lstm", config: { hidden: 8 } } },
    metadata: { symbol: "BTCUSDT" },
  };
}

function bits(data: Float32Array): number[] {
  return [...new Uint32Array(data.buffer, data.byteOffset, data.length)];
}

interface Fixture {
  io: CheckpointIO;
  dir: string;
  /** Replaces the bytes stored at `path` behind the implementation's back. */
  corrupt(path: string, bytes: Uint8Array): Promise<void>;
  cleanup(): Promise<void>;
}

const implementations: [string, () => Promise<Fixture>][] = [
  [
    "LocalCheckpointIO",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "cryptoml-ckpt-"));
      return {
        io: new LocalCheckpointIO(),
        dir: join(dir, "run", "checkpoints"),
        corrupt: (path, bytes) => writeFile(path, bytes),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    "MemoryCheckpointIO",
    async () => {
      const io = new MemoryCheckpointIO();
      return {
        io,
        dir: "/runs/a/checkpoints",
        corrupt: async (path, bytes) => io.setBytes(path, bytes),
        cleanup: async () => undefined,
      };
    },
  ],
];

describe.each(implementations)("CheckpointIO contract: %s", (_name, make) => {
  let f: Fixture;
  beforeEach(async () => {
    f = await make();
  });
  afterEach(async () => {
    await f.cleanup();
  });

  it("reads back exactly what was written, weights bit for bit and in order", async () => {
    const path = join(f.dir, "step-000010.safetensors");
    const state = sampleState(10);
    await f.io.write(path, state);
    const back = await f.io.read(path);
    expect(back.weights.map((w) => w.name)).toEqual(["lin.weight", "lin.bias"]);
    for (const [i, w] of back.weights.entries()) {
      const original = state.weights[i];
      expect(w.shape).toEqual(original?.shape);
      expect(bits(w.data)).toEqual(bits(original?.data ?? new Float32Array()));
    }
    const { weights: _a, ...rest } = back;
    const { weights: _b, ...expected } = state;
    expect(rest).toEqual(expected);
  });

  it("replaces a checkpoint in place", async () => {
    const path = join(f.dir, "last.safetensors");
    await f.io.write(path, sampleState(1));
    await f.io.write(path, sampleState(2));
    expect((await f.io.read(path)).step).toBe(2);
    expect(await f.io.list(f.dir)).toEqual([path]);
  });

  it("lists checkpoints sorted by name, only those directly in the directory", async () => {
    expect(await f.io.list(f.dir)).toEqual([]);
    for (const name of ["step-2.safetensors", "best.safetensors", "step-10.safetensors"]) {
      await f.io.write(join(f.dir, name), sampleState(1));
    }
    await f.io.write(join(f.dir, "nested", "x.safetensors"), sampleState(1));
    expect(await f.io.list(f.dir)).toEqual(
      ["best.safetensors", "step-10.safetensors", "step-2.safetensors"].map((n) => join(f.dir, n)),
    );
  });

  it("removes a checkpoint, and removing a missing one is no error", async () => {
    const path = join(f.dir, "a.safetensors");
    await f.io.write(path, sampleState(1));
    await f.io.remove(path);
    await f.io.remove(path);
    expect(await f.io.list(f.dir)).toEqual([]);
    await expect(f.io.read(path)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("reports a truncated checkpoint with its path and a hint", async () => {
    const path = join(f.dir, "a.safetensors");
    await f.io.write(path, sampleState(1));
    const bytes = encodeCheckpoint(sampleState(1));
    for (const length of [0, 7, 20, bytes.length - 1]) {
      await f.corrupt(path, bytes.subarray(0, length));
      const error = await f.io.read(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as DataFormatError).message).toContain(path);
      expect((error as DataFormatError).hint).toMatch(/truncated or corrupt/);
    }
  });

  it("refuses a checkpoint of another version, and a weights-only safetensors file", async () => {
    const path = join(f.dir, "a.safetensors");
    await f.io.write(path, sampleState(1));
    const bytes = encodeCheckpoint(sampleState(1));
    const text = Buffer.from(bytes).toString("latin1").replace('\\"version\\":1', '\\"version\\":9');
    await f.corrupt(path, Buffer.from(text, "latin1"));
    await expect(f.io.read(path)).rejects.toThrow(/version 9 is not supported/);
    const weightsOnly = encodeCheckpoint(sampleState(1)).slice();
    const withoutKey = Buffer.from(weightsOnly)
      .toString("latin1")
      .replace("cryptoml.checkpoint", "cryptoml.somethingx");
    await f.corrupt(path, Buffer.from(withoutKey, "latin1"));
    await expect(f.io.read(path)).rejects.toThrow(/weights only, not a checkpoint/);
  });

  it("refuses to write a state that lacks documented fields", async () => {
    const path = join(f.dir, "a.safetensors");
    const bad = { ...sampleState(1), step: -1 };
    await expect(f.io.write(path, bad)).rejects.toThrow(/step=-1 must be an integer >= 0/);
    const noConfig = { ...sampleState(1), config: undefined };
    await expect(f.io.write(path, noConfig)).rejects.toThrow(/config is missing/);
    expect(await f.io.list(f.dir)).toEqual([]);
  });
});

describe("LocalCheckpointIO temporaries", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cryptoml-ckpt-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves no temporary file behind after a write", async () => {
    const io = new LocalCheckpointIO();
    await io.write(join(dir, "a.safetensors"), sampleState(1));
    expect(await readdir(dir)).toEqual(["a.safetensors"]);
  });

  it("ignores leftover temporaries in list and deletes them in cleanTemporaries", async () => {
    const io = new LocalCheckpointIO();
    await io.write(join(dir, "a.safetensors"), sampleState(1));
    const leftover = join(dir, ".a.safetensors.1234.0a1b2c3d4e5f.tmp");
    await writeFile(leftover, "half");
    await writeFile(join(dir, "notes.txt"), "keep");
    expect(await io.list(dir)).toEqual([join(dir, "a.safetensors")]);
    expect(await io.cleanTemporaries(dir)).toEqual([leftover]);
    expect((await readdir(dir)).sort()).toEqual(["a.safetensors", "notes.txt"]);
    expect(await io.cleanTemporaries(join(dir, "missing"))).toEqual([]);
  });

  it("writes a file whose weights any safetensors reader sees under their own names", async () => {
    const io = new LocalCheckpointIO();
    const path = join(dir, "a.safetensors");
    await io.write(path, sampleState(3));
    const bytes = await readFile(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<
      string,
      unknown
    >;
    expect(Object.keys(header).sort()).toEqual(["__metadata__", "lin.bias", "lin.weight"]);
    expect(header["lin.weight"]).toMatchObject({ dtype: "F32", shape: [2, 3] });
  });
});
