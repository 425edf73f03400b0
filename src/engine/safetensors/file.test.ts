import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { CryptomlError, DataFormatError } from "../../core/errors.js";
import { encodeSafetensors } from "./encode.js";
import { readSafetensors, writeSafetensors } from "./file.js";

const tempDir = useTempDirs();

describe("writeSafetensors / readSafetensors", () => {
  it("round trips through a file whose bytes are exactly the encoding", async () => {
    const path = join(tempDir(), "w.safetensors");
    const tensors = [{ name: "w", shape: [2], data: new Float32Array([1, 2]) }];
    await writeSafetensors(path, tensors, { format: "pt" });
    expect(new Uint8Array(readFileSync(path))).toEqual(encodeSafetensors(tensors, { format: "pt" }));
    const read = await readSafetensors(path);
    expect(read.tensors.get("w")?.data).toEqual(new Float32Array([1, 2]));
    expect(read.metadata).toEqual({ format: "pt" });
  });

  it("replaces an existing file and leaves no temporary file behind", async () => {
    const dir = tempDir();
    const path = join(dir, "w.safetensors");
    await writeSafetensors(path, [{ name: "w", shape: [1], data: new Float32Array([1]) }]);
    await writeSafetensors(path, [{ name: "w", shape: [1], data: new Float32Array([2]) }]);
    expect((await readSafetensors(path)).tensors.get("w")?.data).toEqual(new Float32Array([2]));
    expect(readdirSync(dir)).toEqual(["w.safetensors"]);
  });

  it("leaves the old file untouched when the new tensors are invalid", async () => {
    const dir = tempDir();
    const path = join(dir, "w.safetensors");
    await writeSafetensors(path, [{ name: "w", shape: [1], data: new Float32Array([1]) }]);
    const write = writeSafetensors(path, [{ name: "w", shape: [3], data: new Float32Array([9]) }]);
    await expect(write).rejects.toThrowError(/shape \[3\] has 3 elements but its data has 1/);
    expect((await readSafetensors(path)).tensors.get("w")?.data).toEqual(new Float32Array([1]));
    expect(readdirSync(dir)).toEqual(["w.safetensors"]);
  });

  it("cleans up when the rename fails (target is a directory)", async () => {
    const dir = tempDir();
    const write = writeSafetensors(dir, [{ name: "w", shape: [1], data: new Float32Array([1]) }]);
    await expect(write).rejects.toThrow();
    expect(readdirSync(join(dir, ".."))).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it("names the file in errors about its contents", async () => {
    const path = join(tempDir(), "broken.safetensors");
    writeFileSync(path, Buffer.from([1, 2, 3]));
    await expect(readSafetensors(path)).rejects.toThrowError(DataFormatError);
    await expect(readSafetensors(path)).rejects.toThrowError(`${path}: safetensors: the file is 3 bytes`);
  });

  it("says NOT_FOUND for a missing file", async () => {
    const path = join(tempDir(), "absent.safetensors");
    const error = await readSafetensors(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CryptomlError);
    expect((error as CryptomlError).code).toBe("NOT_FOUND");
    expect((error as CryptomlError).message).toContain(path);
  });
});
