/**
 * training/checkpoint: the assembly layer (one versioned {@link CheckpointState} encoded as a
 * safetensors file) and the IO layer ({@link CheckpointIO}, local files by default). The policy layer,
 * when to save, lives in the checkpoint callback. See docs/checkpoints.md.
 */
export { CHECKPOINT_EXTENSION, type CheckpointIO, isCheckpointPath } from "./io.js";
export { LocalCheckpointIO } from "./local.js";
export { MemoryCheckpointIO } from "./memory.js";
export {
  CHECKPOINT_METADATA_KEY,
  CHECKPOINT_VERSION,
  type CheckpointState,
  type CheckpointWeight,
  decodeCheckpoint,
  encodeCheckpoint,
} from "./state.js";
