import { backward, noGrad, type Tensor } from "../tensor.js";

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-2: float32 needs a large step to rise above rounding). */
  eps?: number;
  /** Allowed |analytic − numeric| ≤ atol + rtol·|numeric| (defaults 2e-3 and 2e-2). */
  atol?: number;
  rtol?: number;
  /** Check at most this many elements per input, chosen evenly (default all). */
  maxElements?: number;
}

export interface GradcheckFailure {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

/**
 * Compares autograd gradients of `loss = Σ wᵢ·f(inputs)ᵢ` (fixed random weights w, so every output
 * element matters) with central finite differences, for every element of every input that requires
 * grad. Returns the mismatches (empty when the op's backward is right).
 */
export function gradcheck(
  f: () => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckFailure[] {
  const eps = options.eps ?? 1e-2;
  const atol = options.atol ?? 2e-3;
  const rtol = options.rtol ?? 2e-2;
  const probe = noGrad(f);
  const weights = new Float32Array(probe.size).map((_, i) => Math.sin(i * 12.9898 + 1) * 0.5 + 0.75);
  const weighted = (t: Tensor) => t.data.reduce((s, v, i) => s + v * (weights[i] as number), 0);
  for (const input of inputs) input.grad?.fill(0);
  const out = f();
  backward(out, weights);
  const failures: GradcheckFailure[] = [];
  inputs.forEach((input, k) => {
    if (!input.requiresGrad) return;
    const analytic = Float32Array.from(input.grad ?? new Float32Array(input.size));
    const stride = Math.max(1, Math.floor(input.size / (options.maxElements ?? input.size)));
    for (let i = 0; i < input.size; i += stride) {
      const saved = input.data[i] as number;
      input.data[i] = saved + eps;
      const plus = weighted(noGrad(f));
      input.data[i] = saved - eps;
      const minus = weighted(noGrad(f));
      input.data[i] = saved;
      const numeric = (plus - minus) / (2 * eps);
      const got = analytic[i] as number;
      if (!(Math.abs(got - numeric) <= atol + rtol * Math.abs(numeric)))
        failures.push({ input: k, index: i, analytic: got, numeric });
    }
  });
  return failures;
}
