import type { ParameterTensor, Tensor } from "../engine/tensor.js";

/**
 * A model on the engine: parameters named as in the matching PyTorch module's `state_dict`, and a
 * forward pass from windows [B, T, F] to predictions [B, outputs].
 */
export interface Module {
  readonly className: string;
  parameters(): readonly ParameterTensor[];
  forward(x: Tensor, options?: { training?: boolean }): Tensor;
}

/** Collects parameters in registration order, so safetensors files and optimiser state line up. */
export class ParameterRegistry {
  readonly list: ParameterTensor[] = [];

  add<T extends ParameterTensor>(parameter: T): T {
    if (this.list.some((p) => p.name === parameter.name)) {
      throw new Error(`parameter ${parameter.name} registered twice`);
    }
    this.list.push(parameter);
    return parameter;
  }
}
