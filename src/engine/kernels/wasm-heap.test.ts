import { describe, expect, it } from "vitest";
import { HEAP_ALIGN, WasmHeap } from "./wasm-heap.js";

describe("WasmHeap", () => {
  it("aligns blocks to cache lines above the base and never hands out address 0", () => {
    const heap = new WasmHeap(0);
    const a = heap.alloc(1);
    const b = heap.alloc(100);
    expect(a).toBe(HEAP_ALIGN);
    expect(b).toBe(2 * HEAP_ALIGN);
    expect(heap.top).toBe(4 * HEAP_ALIGN);
    expect(new WasmHeap(1000).alloc(4)).toBe(1024);
  });

  it("reuses freed blocks first-fit and coalesces neighbours", () => {
    const heap = new WasmHeap(64);
    const a = heap.alloc(64);
    const b = heap.alloc(64);
    const c = heap.alloc(64);
    const d = heap.alloc(64);
    heap.release(a);
    heap.release(b);
    // a and b merged: a 128-byte block fits where they were.
    expect(heap.alloc(128)).toBe(a);
    heap.release(c);
    expect(heap.alloc(32)).toBe(c);
    expect(heap.sizeOf(d)).toBe(64);
  });

  it("returns a free block at the top to the bump region", () => {
    const heap = new WasmHeap(64);
    const a = heap.alloc(64);
    const b = heap.alloc(640);
    heap.release(b);
    expect(heap.top).toBe(a + 64);
    heap.release(a);
    expect(heap.top).toBe(64);
    expect(heap.liveBytes).toBe(0);
  });

  it("rejects double frees and bad sizes", () => {
    const heap = new WasmHeap(64);
    const a = heap.alloc(8);
    heap.release(a);
    expect(() => heap.release(a)).toThrow(/no live block/);
    expect(() => heap.alloc(-1)).toThrow(/bytes=-1 must be an integer >= 0/);
  });
});
