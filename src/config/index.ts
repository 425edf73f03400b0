/**
 * Configuration: five YAML files under the config directory, environment overrides on top,
 * validated into one {@link ResolvedConfig} with every default filled in. See docs/configuration.md.
 */
export { ENV_PREFIX, type EnvOverride } from "./env.js";
export {
  CONFIG_HINT,
  defaultConfig,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  type ResolvedConfig,
} from "./loader.js";
export {
  type AlertingConfig,
  CONFIG_FILES,
  type ConfigFileName,
  configSchema,
  type DataConfig,
  type DatasetConfig,
  type Distribution,
  datasetSchema,
  type ExperimentsConfig,
  FEATURE_TYPES,
  type FeatureConfig,
  isSectionName,
  MODEL_NAMES,
  type ModelName,
  type ModelsConfig,
  type MonitoringConfig,
  SCALER_KINDS,
  type ScalerKind,
  SECTION_FILES,
  SECTION_NAMES,
  type SearchSpacesConfig,
  type SectionName,
  sectionsOf,
  TARGET_KINDS,
  type TargetKind,
  type TrackingConfig,
  type TrainingConfig,
  WALK_FORWARD_MODES,
  WALK_FORWARD_SPANS,
  type WalkForwardMode,
  type WalkForwardSpan,
} from "./schema/index.js";
export { didYouMean, suggest } from "./suggest.js";
