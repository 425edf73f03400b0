import { CryptomlError } from "../../core/errors.js";
import type { WasmMemory } from "./wasm-api.js";

/** What a region needs from its owner: the current memory buffer, and a way to give the block back. */
export interface RegionOwner {
  readonly memory: WasmMemory;
  release(region: WasmF32): void;
}

/**
 * A block of float32 values resident in wasm linear memory, from {@link WasmKernels.alloc}.
 *
 * The rule: growing the memory detaches every earlier view of it. `region.view` is always valid when read,
 * but a Float32Array taken from it stays valid only until the next call that may grow the memory
 * (`alloc`, or `gemm` with arguments outside wasm memory). Read `region.view` again after such a call;
 * never keep the array itself across one.
 */
export class WasmF32 {
  /** Byte address in linear memory (64-byte aligned). */
  readonly ptr: number;
  /** Number of float32 elements. */
  readonly length: number;
  private cached: Float32Array | undefined;
  private freed = false;

  constructor(
    private readonly owner: RegionOwner,
    ptr: number,
    length: number,
  ) {
    this.ptr = ptr;
    this.length = length;
  }

  /** A Float32Array over the region on the memory's current buffer (rebuilt after growth). */
  get view(): Float32Array {
    if (this.freed) throw new CryptomlError("INTERNAL", `wasm region at ${this.ptr} was freed`);
    const buffer = this.owner.memory.buffer;
    if (this.cached === undefined || this.cached.buffer !== buffer) {
      this.cached = new Float32Array(buffer, this.ptr, this.length);
    }
    return this.cached;
  }

  /** Whether {@link free} was called. */
  get isFreed(): boolean {
    return this.freed;
  }

  /** Gives the block back to the owner; the region must not be used afterwards. Idempotent. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.cached = undefined;
    this.owner.release(this);
  }
}
