import { CryptomlError } from "../core/errors.js";
import type { Parameter } from "./parameter.js";
import { sizeOf } from "./parameter.js";

/**
 * A float32 tensor, row-major (the last dimension is contiguous), with reverse-mode autograd.
 *
 * Ops record how to propagate gradients only while grad mode is on and an input requires grad; the
 * graph is the chain of `parents` and is walked once by `backward()`. Fused kernels (a whole LSTM
 * window, an attention block) are single nodes, so a training step builds tens of nodes, not
 * thousands — that is where the engine's speed comes from.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** Accumulated gradient; allocated on first use (always present on parameters). */
  grad: Float32Array | null;
  readonly requiresGrad: boolean;
  /** Inputs this tensor was computed from, when it is part of a graph. */
  readonly parents: readonly Tensor[];
  /** Adds this tensor's gradient into its parents' gradients. */
  readonly backwardFn: (() => void) | undefined;

  constructor(
    data: Float32Array,
    shape: readonly number[],
    options: {
      requiresGrad?: boolean;
      grad?: Float32Array;
      parents?: Tensor[];
      backwardFn?: () => void;
    } = {},
  ) {
    if (data.length !== sizeOf(shape)) {
      throw new CryptomlError(
        "INTERNAL",
        `tensor data has ${data.length} values but shape [${shape}] needs ${sizeOf(shape)}`,
      );
    }
    this.data = data;
    this.shape = shape;
    this.requiresGrad = options.requiresGrad ?? false;
    this.grad = options.grad ?? null;
    this.parents = options.parents ?? [];
    this.backwardFn = options.backwardFn;
  }

  get size(): number {
    return this.data.length;
  }

  /** The gradient buffer, allocated (zeroed) when first needed. */
  gradBuffer(): Float32Array {
    this.grad ??= new Float32Array(this.data.length);
    return this.grad;
  }

  /** The same values, no graph: for inference and for reading results. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1)
      throw new CryptomlError("INTERNAL", `item() needs one element, not [${this.shape}]`);
    return this.data[0] as number;
  }
}

/** A named, trainable tensor: what optimisers update and safetensors files store. */
export class ParameterTensor extends Tensor implements Parameter {
  readonly name: string;
  declare grad: Float32Array;

  constructor(name: string, shape: readonly number[], data = new Float32Array(sizeOf(shape))) {
    super(data, shape, { requiresGrad: true, grad: new Float32Array(sizeOf(shape)) });
    this.name = name;
  }
}

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `work` without recording any graph (inference, evaluation): ops skip saving what backward
 * needs, which saves memory and time.
 */
export function noGrad<T>(work: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return work();
  } finally {
    gradEnabled = previous;
  }
}

/** Whether an op over these inputs must record a graph node. */
export function needsGrad(...inputs: (Tensor | undefined)[]): boolean {
  return gradEnabled && inputs.some((t) => t?.requiresGrad === true);
}

/**
 * Makes an op's output: a graph node when any input requires grad (and grad mode is on), a plain
 * tensor otherwise. `backward` receives the output's gradient and adds into the inputs' gradients.
 */
export function result(
  data: Float32Array,
  shape: readonly number[],
  inputs: readonly (Tensor | undefined)[],
  backward: (gradOut: Float32Array) => void,
): Tensor {
  const parents = inputs.filter((t): t is Tensor => t !== undefined);
  if (!needsGrad(...parents)) return new Tensor(data, shape);
  const out: Tensor = new Tensor(data, shape, {
    requiresGrad: true,
    parents,
    backwardFn: () => {
      if (out.grad !== null) backward(out.grad);
    },
  });
  return out;
}

/** A constant tensor (inputs, targets). */
export function tensor(data: Float32Array | number[], shape: readonly number[]): Tensor {
  return new Tensor(data instanceof Float32Array ? data : Float32Array.from(data), shape);
}

/**
 * Back-propagates from a scalar (or from `gradOutput` for a non-scalar): every tensor in the graph
 * that requires grad gets its gradient accumulated, parameters included. Nodes are visited in
 * reverse topological order, so each node's gradient is complete before it is propagated.
 */
export function backward(root: Tensor, gradOutput?: Float32Array): void {
  if (!root.requiresGrad) {
    throw new CryptomlError("INTERNAL", "backward() on a tensor that does not require grad", {
      hint: "compute the loss from parameters outside noGrad()",
    });
  }
  if (gradOutput === undefined && root.size !== 1) {
    throw new CryptomlError(
      "INTERNAL",
      `backward() needs a scalar or a gradOutput, got shape [${root.shape}]`,
    );
  }
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: graphs of long unrolled sequences would overflow the call stack recursively.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [Tensor, number];
    const [node, next] = top;
    if (next < node.parents.length) {
      top[1] = next + 1;
      const parent = node.parents[next] as Tensor;
      if (parent.requiresGrad && !seen.has(parent)) {
        seen.add(parent);
        stack.push([parent, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  const seed = root.gradBuffer();
  if (gradOutput === undefined) seed[0] = (seed[0] as number) + 1;
  else for (let i = 0; i < seed.length; i++) seed[i] = (seed[i] as number) + (gradOutput[i] as number);
  for (let i = order.length - 1; i >= 0; i--) order[i]?.backwardFn?.();
}
