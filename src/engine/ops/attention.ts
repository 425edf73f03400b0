/** Multi-head self-attention; the implementation lives in ./attention/ (op, shapes, portable and WASM paths). */
export {
  type AttentionOptions,
  type AttentionParams,
  causalMask,
  multiHeadSelfAttention,
} from "./attention/index.js";
