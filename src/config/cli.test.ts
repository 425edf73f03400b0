import { existsSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_DIR, fixtureDir } from "../../test/helpers/config-fixtures.js";
import { registerConfigCommands } from "../cli/commands/config.js";
import type { CliContext } from "../cli/context.js";
import { ConfigError, UsageError } from "../core/errors.js";
import { defaultConfig } from "./index.js";

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `cryptoml <argv>` with only the config commands registered; returns what was printed. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const stdout = new Collector();
  const stderr = new Collector();
  const program = new Command("cryptoml")
    .option("--config-dir <dir>", "configuration directory", "config")
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
  const getContext = (): CliContext => ({
    configDir: program.opts<{ configDir: string }>().configDir,
    verbose: false,
    stdout,
    stderr,
    env,
    interactive: false,
  });
  registerConfigCommands(program, getContext);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    // --help ends in a CommanderError with exit code 0 once the help is written.
    if (!(error instanceof CommanderError && error.exitCode === 0)) throw error;
  }
  return stdout.text;
}

describe("cryptoml config check", () => {
  it("lists each file, the overrides and the verdict", async () => {
    const out = await run(["--config-dir", CONFIG_DIR, "config", "check"], {
      CRYPTOML_TRAINING__EPOCHS: "5",
    });
    const width = join(CONFIG_DIR, "model_architectures.yaml").length;
    const file = (name: string, status: string) => `${join(CONFIG_DIR, name).padEnd(width)}  ${status}`;
    expect(out).toBe(
      [
        file("training.yaml", "ok"),
        file("model_architectures.yaml", "ok"),
        file("hyperparameters.yaml", "ok"),
        file("experiments.yaml", "ok"),
        file("monitoring.yaml", "ok"),
        "env overrides:",
        "  CRYPTOML_TRAINING__EPOCHS -> training.epochs = 5",
        "configuration valid",
        "",
      ].join("\n"),
    );
  });

  it("says which files fall back to defaults", async () => {
    const out = await run(["--config-dir", fixtureDir("empty-files"), "config", "check"]);
    expect(out).toMatch(/empty-files\/hyperparameters\.yaml +defaults \(file not found\)\n/);
    expect(out).toMatch(/empty-files\/training\.yaml +ok\n/);
    expect(out).toContain("env overrides: none\nconfiguration valid\n");
  });

  it("lets the ConfigError reach main, which prints it", async () => {
    const error = await run(["--config-dir", fixtureDir("bad-enum"), "config", "check"]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `${join(fixtureDir("bad-enum"), "training.yaml")}:3 training.optimizer: "adamm" must be one of "adam", "adamw", "sgd"`,
    ]);
  });

  it("documents the environment naming rule in its help", async () => {
    const help = await run(["config", "--help"]);
    expect(help).toContain("CRYPTOML_<SECTION>__<KEY>[__<SUBKEY>...]=value");
    expect(help).toContain("CRYPTOML_TRAINING__BATCH_SIZE=32");
    expect(help).toContain("(e.g. CRYPTOML_HOME) are not overrides and are ignored");
  });
});

describe("cryptoml config show", () => {
  it("prints the resolved configuration as YAML, equal to the defaults for the shipped files", async () => {
    const out = await run(["--config-dir", CONFIG_DIR, "config", "show"]);
    expect(parse(out)).toEqual(defaultConfig());
  });

  it("prints JSON and applies overrides", async () => {
    const out = await run(["--config-dir", CONFIG_DIR, "config", "show", "--json"], {
      CRYPTOML_MONITORING__PORT: "9100",
    });
    const expected = defaultConfig();
    expected.monitoring.port = 9100;
    expect(JSON.parse(out)).toEqual(expected);
  });

  it("prints one section", async () => {
    const out = await run(["--config-dir", CONFIG_DIR, "config", "show", "--section", "dataset", "--json"]);
    expect(JSON.parse(out)).toEqual({ dataset: defaultConfig().dataset });
  });

  it("rejects an unknown section with a suggestion", async () => {
    const error = await run(["config", "show", "--section", "trainig"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('unknown section "trainig" (did you mean "training"?)');
  });
});

// main.ts also wires commands other engineers are still writing; run through it once they exist.
const mainReady = ["data.ts", "dataset.ts"].every((f) =>
  existsSync(new URL(`../cli/commands/${f}`, import.meta.url)),
);

describe.runIf(mainReady)("through main()", () => {
  it("prints help with the env rule, validates, and reports problems with exit code 1", async () => {
    const { main } = await import("../cli/main.js");
    const io = () => ({ stdout: new Collector(), stderr: new Collector(), env: {} });

    const help = io();
    expect(await main(["config", "--help"], help)).toBe(0);
    expect(help.stdout.text).toContain("CRYPTOML_<SECTION>__<KEY>[__<SUBKEY>...]=value");
    expect(help.stdout.text).toContain("CRYPTOML_HOME");

    const ok = io();
    expect(await main(["--config-dir", CONFIG_DIR, "config", "check"], ok)).toBe(0);
    expect(ok.stdout.text).toContain("configuration valid");

    const bad = io();
    expect(await main(["--config-dir", fixtureDir("negative-batch-size"), "config", "check"], bad)).toBe(1);
    expect(bad.stderr.text).toBe(
      [
        `error [CONFIG_INVALID]: ${join(fixtureDir("negative-batch-size"), "training.yaml")}:8 training.batch_size: -4 must be an integer >= 1`,
        "hint: fix the values above, then run `cryptoml config check`",
        "",
      ].join("\n"),
    );
  });
});
