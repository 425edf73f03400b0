import type { Command } from "commander";
import { stringify } from "yaml";
import {
  didYouMean,
  ENV_PREFIX,
  isSectionName,
  type LoadedConfig,
  loadConfig,
  SECTION_FILES,
  SECTION_NAMES,
  type SectionName,
} from "../../config/index.js";
import { UsageError } from "../../core/errors.js";
import { type CliContext, print } from "../context.js";

const ENV_HELP = `
Files (in --config-dir, default ./config; a missing file or directory means defaults):
${SECTION_NAMES.map((s) => `  ${s.padEnd(14)} in ${SECTION_FILES[s]}`).join("\n")}

Environment overrides (applied after the files, before validation):
  ${ENV_PREFIX}<SECTION>__<KEY>[__<SUBKEY>...]=value
  Upper case, two underscores between levels; names are lower-cased to the YAML keys.
  Values are parsed as YAML, so numbers, true/false, null and [a, b] lists work.
    ${ENV_PREFIX}TRAINING__BATCH_SIZE=32            training.batch_size = 32
    ${ENV_PREFIX}DATASET__WALK_FORWARD__FOLDS=3     dataset.walk_forward.folds = 3
    ${ENV_PREFIX}DATA__SYMBOLS='[BTCUSDT, ETHUSDT]'  data.symbols
    ${ENV_PREFIX}FEATURES__2__PERIOD=21             features[2].period (list items by index)
  Variables without a double underscore after ${ENV_PREFIX} (e.g. ${ENV_PREFIX}HOME) are not overrides and are ignored.
`;

/** One line per file: "ok" or "defaults (file not found)". */
function describeFiles(loaded: LoadedConfig): string[] {
  const width = Math.max(...loaded.files.map((f) => f.path.length));
  return loaded.files.map((f) => `${f.path.padEnd(width)}  ${f.found ? "ok" : "defaults (file not found)"}`);
}

function describeOverrides(loaded: LoadedConfig): string[] {
  if (loaded.overrides.length === 0) return ["env overrides: none"];
  return [
    "env overrides:",
    ...loaded.overrides.map((o) => `  ${o.variable} -> ${o.path} = ${JSON.stringify(o.value)}`),
  ];
}

/** Checked before loading, so a typo in --section is reported even when the files are broken. */
function checkSection(section: string | undefined): SectionName | undefined {
  if (section === undefined || isSectionName(section)) return section;
  throw new UsageError(`unknown section "${section}"${didYouMean(section, SECTION_NAMES)}`, {
    hint: `use one of ${SECTION_NAMES.join(", ")}`,
  });
}

/**
 * Adds `config check` and `config show`. Both read `--config-dir` and the environment from the context;
 * a ConfigError propagates to main, which prints every problem and exits 1.
 */
export function registerConfigCommands(program: Command, getContext: () => CliContext): void {
  const config = program
    .command("config")
    .description("check and show the configuration (YAML files plus CRYPTOML_* overrides)")
    .addHelpText("after", ENV_HELP)
    // Help and usage errors go to the context's streams even when the root was configured after us.
    .configureOutput({
      writeOut: (text) => getContext().stdout.write(text),
      writeErr: (text) => getContext().stderr.write(text),
    });

  config
    .command("check")
    .description("validate every configuration file and override; list all problems with file:line")
    .action(async () => {
      const ctx = getContext();
      const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
      print(
        ctx.stdout,
        [...describeFiles(loaded), ...describeOverrides(loaded), "configuration valid"].join("\n"),
      );
    });

  config
    .command("show")
    .description("print the resolved configuration (defaults filled in, overrides applied)")
    .option("--json", "print JSON instead of YAML")
    .option("--section <name>", `print one section (${SECTION_NAMES.join(", ")})`)
    .action(async (options: { json?: boolean; section?: string }) => {
      const ctx = getContext();
      const section = checkSection(options.section);
      const loaded = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
      const selected = section === undefined ? loaded.config : { [section]: loaded.config[section] };
      print(ctx.stdout, options.json ? JSON.stringify(selected, null, 2) : stringify(selected));
    });
}
