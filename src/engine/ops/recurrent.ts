/**
 * Fused recurrent layers: a whole LSTM or GRU window is one autograd node, forward in one call and
 * backward (BPTT) in one call, with PyTorch's weight layout and gate order. Equations, cache layout
 * and costs: docs/engine-recurrent.md.
 */
export type { RecurrentParameters } from "./recurrent/common.js";
export { type GruOptions, type GruResult, gru } from "./recurrent/gru.js";
export { type LstmOptions, type LstmResult, lstm } from "./recurrent/lstm.js";
