/**
 * The slice of the WebAssembly JS API the kernels use, typed locally: the project compiles against
 * ES2023 + @types/node 20, neither of which declares the `WebAssembly` global (lib.dom does).
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  /** Grows by `pages` 64 KiB pages; detaches the previous `buffer`. */
  grow(pages: number): number;
}

// biome-ignore lint/suspicious/noEmptyInterface: an opaque compiled module
export interface WasmModule {}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: {
    new (bytes: Uint8Array): WasmModule;
    exports(module: WasmModule): { name: string; kind: string }[];
  };
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

/** The runtime's WebAssembly object, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}
