/**
 * safetensors interop with the real thing: PyTorch 2.13 and `safetensors` (test/peers/safetensors_torch.py).
 * Both directions, compared exactly (every value bit for bit, -0 and NaN included), and byte for byte
 * where the format leaves no freedom: the files we write equal what `safetensors.torch.save` writes for
 * the same tensors, and the reverse.
 * Needs the peers venv with torch and safetensors: `npm run test:peers` creates .venv-peers/.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { createParameter, type Parameter } from "../../src/engine/parameter.js";
import {
  bf16ToF32,
  encodeSafetensors,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  loadParameters,
  readSafetensors,
  saveParameters,
  type TensorData,
} from "../../src/engine/safetensors/index.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv-peers", "bin", "python");
const SCRIPT = join(ROOT, "test", "peers", "safetensors_torch.py");

type JsonValue = number | string;
interface PeerTensor {
  dtype: string;
  shape: number[];
  sum: JsonValue | null;
  values: JsonValue[];
}
interface PeerOutput {
  tensors: Record<string, PeerTensor>;
  file_dtypes?: Record<string, string>;
  metadata?: Record<string, string>;
  missing_keys?: string[];
  unexpected_keys?: string[];
  resave_identical?: boolean;
}

const run = promisify(execFile);
const tempDir = useTempDirs();

async function peer(mode: "write" | "check" | "dtypes", path: string): Promise<PeerOutput> {
  const { stdout } = await run(PYTHON, [SCRIPT, mode, path], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as PeerOutput;
}

/** The reference lstm model's parameters, in PyTorch's state_dict order. */
function referenceParameters(): Parameter[] {
  return [
    createParameter("rnn.weight_ih_l0", [256, 16]),
    createParameter("rnn.weight_hh_l0", [256, 64]),
    createParameter("rnn.bias_ih_l0", [256]),
    createParameter("rnn.bias_hh_l0", [256]),
    createParameter("out.weight", [1, 64]),
    createParameter("out.bias", [1]),
  ];
}

function fromJson(value: JsonValue): number | bigint {
  if (value === "nan") return Number.NaN;
  if (value === "inf") return Infinity;
  if (value === "-inf") return -Infinity;
  return typeof value === "string" ? BigInt(value) : value;
}

/** Indices where `ours` and the peer's values differ, bit for bit (NaN equals NaN, -0 differs from 0). */
function differences(ours: ArrayLike<number | bigint>, theirs: readonly JsonValue[]): string[] {
  const found: string[] = [];
  if (ours.length !== theirs.length) return [`length ${ours.length} vs torch's ${theirs.length}`];
  for (let i = 0; i < theirs.length; i += 1) {
    const a = ours[i] as number | bigint;
    const b = fromJson(theirs[i] as JsonValue);
    const same = typeof a === "bigint" || typeof b === "bigint" ? BigInt(a) === BigInt(b) : Object.is(a, b);
    if (!same) found.push(`[${i}] ours ${String(a)} torch ${String(b)}`);
  }
  return found.slice(0, 5);
}

beforeAll(async () => {
  const hint = "run `npm run test:peers` (installs torch and safetensors into .venv-peers/)";
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: ${hint}`);
  try {
    await run(PYTHON, ["-c", "import torch, safetensors"]);
  } catch (error) {
    throw new Error(`${PYTHON} cannot import torch and safetensors: ${hint}\n${(error as Error).message}`);
  }
}, 120_000);

describe("safetensors ↔ PyTorch", () => {
  it("reads a state_dict saved by safetensors.torch.save_file, value for value", async () => {
    const path = join(tempDir(), "torch.safetensors");
    const saved = await peer("write", path);
    const { tensors, metadata } = await readSafetensors(path);
    expect(metadata).toEqual({ format: "pt" });
    expect([...tensors.keys()].sort()).toEqual(Object.keys(saved.tensors).sort());
    for (const [name, expected] of Object.entries(saved.tensors)) {
      const tensor = tensors.get(name);
      expect(tensor?.dtype, name).toBe("F32");
      expect(tensor?.shape, name).toEqual(expected.shape);
      expect(differences(tensor?.data ?? [], expected.values), name).toEqual([]);
    }

    // Our writer reproduces torch's file byte for byte from the same tensors.
    const again = encodeSafetensors(
      [...tensors].map(([name, tensor]) => ({ name, ...tensor })),
      metadata,
    );
    expect(Buffer.compare(again, readFileSync(path))).toBe(0);

    // And the file loads into the reference model's parameters, strictly.
    const params = referenceParameters();
    await loadParameters(path, params);
    for (const param of params)
      expect(differences(param.data, saved.tensors[param.name]?.values ?? []), param.name).toEqual([]);
  });

  it("writes parameters that load_state_dict(strict=True) accepts, value for value", async () => {
    const path = join(tempDir(), "ours.safetensors");
    const params = referenceParameters();
    const special = [-0, 2 ** -149, -3.4028234663852886e38, 1e-45, Math.fround(0.1)];
    for (const [p, param] of params.entries()) {
      for (let i = 0; i < param.data.length; i += 1) param.data[i] = Math.sin(p * 7919 + i * 0.37) * 0.2;
    }
    params[0]?.data.set(special);
    await saveParameters(path, params, { format: "pt" });

    const checked = await peer("check", path);
    expect(checked.missing_keys).toEqual([]);
    expect(checked.unexpected_keys).toEqual([]);
    expect(checked.metadata).toEqual({ format: "pt" });
    expect(checked.resave_identical, "safetensors.torch.save of what torch loaded reproduces our file").toBe(
      true,
    );
    expect(Object.values(checked.file_dtypes ?? {})).toEqual(Array(6).fill("F32"));
    for (const param of params) {
      const theirs = checked.tensors[param.name];
      expect(theirs?.shape, param.name).toEqual(param.shape);
      expect(differences(param.data, theirs?.values ?? []), param.name).toEqual([]);
    }
  });

  it("converts F16, BF16, F64 and integer tensors exactly as torch does", async () => {
    const path = join(tempDir(), "dtypes.safetensors");
    const saved = await peer("dtypes", path);
    const { tensors } = await readSafetensors(path);
    for (const [name, expected] of Object.entries(saved.tensors)) {
      const tensor = tensors.get(name);
      expect(tensor?.dtype, name).toBe(expected.dtype);
      expect(tensor?.shape, name).toEqual(expected.shape);
      expect(differences((tensor?.data ?? []) as ArrayLike<number | bigint>, expected.values), name).toEqual(
        [],
      );
    }
    // Our rounding of float32 to the half formats matches torch's .half() and .bfloat16().
    const x = tensors.get("x")?.data as Float32Array;
    const viaF16 = Float32Array.from(x, (value) => f16ToF32(f32ToF16(value)));
    const viaBf16 = Float32Array.from(x, (value) => bf16ToF32(f32ToBf16(value)));
    expect(differences(viaF16, saved.tensors.x_f16?.values ?? [])).toEqual([]);
    expect(differences(viaBf16, saved.tensors.x_bf16?.values ?? [])).toEqual([]);

    // Written back by us (F16/BF16 from Float32), the file is torch's byte for byte. This includes torch's
    // bf16 NaN (0xFFFF): our conversions keep a quiet NaN's sign and payload through Float32 and back.
    const again = encodeSafetensors(
      [...tensors].map(([name, tensor]) => ({
        name,
        shape: tensor.shape,
        data: tensor.data as TensorData,
        dtype: tensor.dtype,
      })),
    );
    expect(Buffer.compare(again, readFileSync(path))).toBe(0);
  });
});
