/** The model registry's public API: definitions, models built from them, saved models and losses. */
export {
  type ArchitectureConfig,
  type EnsembleConfig,
  type EnsembleMethod,
  type ForecastModel,
  type ForwardOptions,
  type HeadKind,
  type ModelDefinition,
  type ModelIo,
  type ModelName,
  type OutputColumn,
  outputColumns,
} from "./definition.js";
export { forecastLoss, packTargets } from "./heads.js";
export {
  createModel,
  decodeModel,
  defineModel,
  encodeModel,
  loadModel,
  loadWeights,
  MODEL_METADATA_KEY,
  type NamedWeights,
  saveModel,
  weightsOf,
} from "./registry.js";
export { checkDefinition } from "./validate.js";
