import { CryptomlError } from "../../core/errors.js";

/** Alignment of every block: one cache line, so v128 loads never split lines at a block's start. */
export const HEAP_ALIGN = 64;

interface Block {
  ptr: number;
  bytes: number;
}

/**
 * Address bookkeeping for the host-managed part of wasm linear memory: first-fit over an address-ordered
 * free list with coalescing, and a bump pointer (`top`) above it. It only computes addresses; the owner
 * grows the memory to `top` before anything touches the new block.
 */
export class WasmHeap {
  private readonly free: Block[] = [];
  private readonly used = new Map<number, number>();
  private topPtr: number;

  /** @param base first usable byte (rounded up to {@link HEAP_ALIGN}); address 0 is never handed out. */
  constructor(base: number) {
    this.topPtr = alignUp(Math.max(base, HEAP_ALIGN));
  }

  /** One past the highest byte any live or free block may use: memory must be at least this large. */
  get top(): number {
    return this.topPtr;
  }

  /** Bytes held by live blocks (after rounding). */
  get liveBytes(): number {
    let total = 0;
    for (const bytes of this.used.values()) total += bytes;
    return total;
  }

  /** Reserves `bytes` (rounded up to {@link HEAP_ALIGN}, at least one line) and returns the address. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new CryptomlError("INTERNAL", `wasm heap: bytes=${bytes} must be an integer >= 0`);
    }
    const size = alignUp(Math.max(bytes, 1));
    const index = this.free.findIndex((block) => block.bytes >= size);
    let ptr: number;
    const block = this.free[index];
    if (block !== undefined) {
      ptr = block.ptr;
      if (block.bytes === size) this.free.splice(index, 1);
      else {
        block.ptr += size;
        block.bytes -= size;
      }
    } else {
      ptr = this.topPtr;
      this.topPtr += size;
    }
    this.used.set(ptr, size);
    return ptr;
  }

  /** Returns a block to the free list; freeing an unknown or already freed address throws. */
  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new CryptomlError("INTERNAL", `wasm heap: no live block at ${ptr}`);
    this.used.delete(ptr);
    let index = this.free.findIndex((block) => block.ptr > ptr);
    if (index < 0) index = this.free.length;
    this.free.splice(index, 0, { ptr, bytes: size });
    this.coalesce(index);
  }

  /** Size in bytes of the live block at `ptr`, or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.used.get(ptr);
  }

  private coalesce(index: number): void {
    const block = this.free[index] as Block;
    const next = this.free[index + 1];
    if (next !== undefined && block.ptr + block.bytes === next.ptr) {
      block.bytes += next.bytes;
      this.free.splice(index + 1, 1);
    }
    const prev = this.free[index - 1];
    let merged = block;
    if (prev !== undefined && prev.ptr + prev.bytes === block.ptr) {
      prev.bytes += block.bytes;
      this.free.splice(index, 1);
      merged = prev;
    }
    // A free block touching the top goes back to the bump region, so the next big block reuses it.
    if (merged.ptr + merged.bytes === this.topPtr) {
      this.topPtr = merged.ptr;
      this.free.pop();
    }
  }
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / HEAP_ALIGN) * HEAP_ALIGN;
}
