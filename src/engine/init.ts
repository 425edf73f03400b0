/**
 * Initialisers that draw from the same distributions as PyTorch 2.13's default `reset_parameters()`
 * for each layer the reference models use (same bounds and constants; the numbers themselves come from
 * our {@link Rng}, not torch's generator). A model built here therefore starts where a freshly
 * constructed PyTorch model starts, in distribution; exact PyTorch weights are loaded via safetensors.
 *
 * Each function fills `data` in place. Targets are anything with `shape` and `data` (a
 * `ParameterTensor` or a `Parameter`); draws are made in PyTorch's order (weight before bias).
 */
import { CryptomlError } from "../core/errors.js";
import type { Rng } from "./random.js";

/** Something an initialiser fills: a parameter's shape and its values. */
export interface InitTarget {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * `torch.nn.init._calculate_fan_in_and_fan_out`: for a weight [out, in, ...kernel], fan_in is
 * in · ∏kernel and fan_out is out · ∏kernel. Needs at least two dimensions, as in PyTorch.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new CryptomlError("INTERNAL", `fans: shape [${shape}] needs at least 2 dimensions`);
  }
  const receptive = shape.slice(2).reduce((n, d) => n * d, 1);
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

/**
 * Bound b of `kaiming_uniform_(w, a, mode="fan_in", nonlinearity="leaky_relu")`: gain = √(2/(1+a²)),
 * std = gain/√fan_in, b = √3·std. With PyTorch's layer default a = √5 this is exactly 1/√fan_in.
 */
export function kaimingUniformBound(fanIn: number, a = Math.sqrt(5)): number {
  if (fanIn <= 0) return 0; // PyTorch warns and leaves a zero-element tensor; nothing to draw
  const gain = Math.sqrt(2 / (1 + a * a));
  return Math.sqrt(3) * (gain / Math.sqrt(fanIn));
}

/** Bound of `xavier_uniform_(w, gain)`: gain · √(6 / (fan_in + fan_out)). */
export function xavierUniformBound(fanIn: number, fanOut: number, gain = 1): number {
  return gain * Math.sqrt(6 / (fanIn + fanOut));
}

/** `init.uniform_(w, -bound, bound)`. */
export function uniformInit(target: InitTarget, bound: number, rng: Rng): void {
  rng.fillUniform(target.data, -bound, bound);
}

/** `init.constant_(w, value)` (zeros_ and ones_ included). */
export function constantInit(target: InitTarget, value: number): void {
  target.data.fill(value);
}

/**
 * nn.Linear (`Linear.reset_parameters`): weight [out, in] by kaiming_uniform_(a=√5), i.e.
 * U(±1/√in); bias [out] by U(±1/√fan_in) with fan_in = in. Also the linear layers inside
 * nn.TransformerEncoderLayer (linear1, linear2) and any output head.
 */
export function initLinear(rng: Rng, weight: InitTarget, bias?: InitTarget): void {
  const { fanIn } = fans(weight.shape);
  uniformInit(weight, kaimingUniformBound(fanIn), rng);
  if (bias !== undefined) uniformInit(bias, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0, rng);
}

/**
 * nn.Conv1d (`_ConvNd.reset_parameters`, groups = 1): weight [out, in, K] by kaiming_uniform_(a=√5)
 * with fan_in = in·K, i.e. U(±1/√(in·K)); bias [out] by U(±1/√(in·K)).
 */
export function initConv1d(rng: Rng, weight: InitTarget, bias?: InitTarget): void {
  if (weight.shape.length !== 3) {
    throw new CryptomlError("INTERNAL", `initConv1d: weight [${weight.shape}] must be [out, in, kernel]`);
  }
  initLinear(rng, weight, bias);
}

/**
 * nn.LSTM and nn.GRU (`RNNBase.reset_parameters`): every parameter — weight_ih, weight_hh, bias_ih,
 * bias_hh of every layer — by U(±1/√hidden_size). Pass them in PyTorch's `parameters()` order
 * (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, …) to draw in the same order.
 */
export function initRecurrent(rng: Rng, hiddenSize: number, params: readonly InitTarget[]): void {
  const bound = hiddenSize > 0 ? 1 / Math.sqrt(hiddenSize) : 0;
  for (const p of params) uniformInit(p, bound, rng);
}

/** The parameters of nn.MultiheadAttention with one packed in-projection (kdim = vdim = embed_dim). */
export interface AttentionInitTargets {
  /** `in_proj_weight` [3E, E]. */
  inProjWeight: InitTarget;
  /** `in_proj_bias` [3E]. */
  inProjBias?: InitTarget;
  /** `out_proj.weight` [E, E]. */
  outProjWeight: InitTarget;
  /** `out_proj.bias` [E]. */
  outProjBias?: InitTarget;
}

/**
 * nn.MultiheadAttention (`MultiheadAttention._reset_parameters`): in_proj_weight [3E, E] by
 * xavier_uniform_ (fan_in = E, fan_out = 3E, so U(±√(6/4E))); in_proj_bias and out_proj.bias set to 0;
 * out_proj.weight keeps the nn.Linear default drawn when out_proj was constructed, U(±1/√E).
 * PyTorch draws out_proj (weight, then a bias it later zeroes) in `__init__`, then in_proj_weight;
 * so do we, so that the draws stay in step with PyTorch's order.
 */
export function initMultiheadAttention(rng: Rng, p: AttentionInitTargets): void {
  initLinear(rng, p.outProjWeight, p.outProjBias);
  const { fanIn, fanOut } = fans(p.inProjWeight.shape);
  uniformInit(p.inProjWeight, xavierUniformBound(fanIn, fanOut), rng);
  if (p.inProjBias !== undefined) constantInit(p.inProjBias, 0);
  if (p.outProjBias !== undefined) constantInit(p.outProjBias, 0);
}

/** nn.LayerNorm (`LayerNorm.reset_parameters`): weight (gamma) 1, bias (beta) 0. */
export function initLayerNorm(gamma: InitTarget, beta?: InitTarget): void {
  constantInit(gamma, 1);
  if (beta !== undefined) constantInit(beta, 0);
}

/**
 * Learned position embeddings [T, D]: zeros, as the reference TransformerNet creates them
 * (`nn.Parameter(torch.zeros(1, T, H))` in ../shared/anchors/torch_reference.py); PyTorch has no
 * layer default for these.
 */
export function initPositions(target: InitTarget): void {
  constantInit(target, 0);
}
