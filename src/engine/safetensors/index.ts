/**
 * Weights in the safetensors format, byte-compatible with `safetensors.torch.save_file` / `load_file`.
 * See docs/safetensors.md.
 */
export {
  type DecodedTensor,
  decodeSafetensors,
  MAX_HEADER_BYTES,
  METADATA_KEY,
  type SafetensorsContents,
} from "./decode.js";
export { bf16ToF32, type Dtype, f16ToF32, f32ToBf16, f32ToF16, type TensorData } from "./dtype.js";
export { encodeSafetensors, type TensorToWrite } from "./encode.js";
export { readSafetensors, writeSafetensors } from "./file.js";
export {
  copyIntoParameters,
  type LoadParametersOptions,
  type LoadParametersResult,
  loadParameters,
  StateDictError,
  saveParameters,
} from "./parameters.js";
