/**
 * A trainable tensor as optimisers, gradient clipping, checkpoints and safetensors see it.
 * `data` and `grad` are owned by JavaScript (never views into WebAssembly memory, which may move
 * when it grows), row-major, with `shape` giving the dimensions. `name` is the PyTorch
 * `state_dict` key for the reference models (for example `rnn.weight_ih_l0`), so weights can be
 * exchanged with PyTorch as safetensors.
 */
export interface Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** Accumulated gradient, same length as `data`; zeroed by the optimiser's `zeroGrad()`. */
  readonly grad: Float32Array;
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

/** A parameter with fresh zeroed storage. */
export function createParameter(name: string, shape: readonly number[]): Parameter {
  const size = sizeOf(shape);
  return { name, shape: [...shape], data: new Float32Array(size), grad: new Float32Array(size) };
}
