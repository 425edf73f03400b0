/**
 * The whole configuration: one schema per section, each section living in exactly one file.
 * Every field has a default, so `configSchema.parse({})` is a complete, valid configuration.
 */
import * as z from "zod";
import { alertingSchema } from "./alerting.js";
import { dataSchema } from "./data.js";
import { datasetSchema } from "./dataset.js";
import { featuresSchema } from "./features.js";
import { modelsSchema } from "./models.js";
import { monitoringSchema } from "./monitoring.js";
import { searchSpacesSchema } from "./search-spaces.js";
import { experimentsSchema, trackingSchema } from "./tracking.js";
import { trainingSchema } from "./training.js";

export const configSchema = z.strictObject({
  data: dataSchema.prefault({}),
  features: featuresSchema,
  dataset: datasetSchema.prefault({}),
  training: trainingSchema.prefault({}),
  models: modelsSchema,
  search_spaces: searchSpacesSchema,
  tracking: trackingSchema,
  experiments: experimentsSchema,
  monitoring: monitoringSchema,
  alerting: alertingSchema,
});

/** The five configuration files, in the order they are read and reported. */
export const CONFIG_FILES = [
  "training.yaml",
  "model_architectures.yaml",
  "hyperparameters.yaml",
  "experiments.yaml",
  "monitoring.yaml",
] as const;
export type ConfigFileName = (typeof CONFIG_FILES)[number];

export type SectionName = keyof z.output<typeof configSchema>;

/** Which file holds each top-level section; a section found elsewhere is an error naming this file. */
export const SECTION_FILES: Readonly<Record<SectionName, ConfigFileName>> = {
  data: "training.yaml",
  features: "training.yaml",
  dataset: "training.yaml",
  training: "training.yaml",
  models: "model_architectures.yaml",
  search_spaces: "hyperparameters.yaml",
  tracking: "experiments.yaml",
  experiments: "experiments.yaml",
  monitoring: "monitoring.yaml",
  alerting: "monitoring.yaml",
};

export const SECTION_NAMES = Object.keys(SECTION_FILES) as SectionName[];

export function isSectionName(name: string): name is SectionName {
  return Object.hasOwn(SECTION_FILES, name);
}

/** The sections a file may hold, in schema order. */
export function sectionsOf(file: ConfigFileName): SectionName[] {
  return SECTION_NAMES.filter((section) => SECTION_FILES[section] === file);
}

export * from "./alerting.js";
export * from "./data.js";
export * from "./dataset.js";
export * from "./features.js";
export * from "./models.js";
export * from "./monitoring.js";
export * from "./search-spaces.js";
export * from "./tracking.js";
export * from "./training.js";
