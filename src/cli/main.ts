import { Command, CommanderError } from "commander";
import { CryptomlError, isCryptomlError } from "../core/errors.js";
import { registerAnalyzeCommands } from "./commands/analyze.js";
import { registerBacktestCommands } from "./commands/backtest.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerDataCommands } from "./commands/data.js";
import { registerDatasetCommands } from "./commands/dataset.js";
import { registerMonitorCommands } from "./commands/monitor.js";
import { registerMonitoringCommands } from "./commands/monitoring.js";
import { registerTrackingCommands } from "./commands/tracking.js";
import { registerTrainCommands } from "./commands/train.js";
import { registerTuneCommands } from "./commands/tune.js";
import type { CliContext } from "./context.js";

export interface MainIo {
  stdout?: NodeJS.WritableStream & import("node:stream").Writable;
  stderr?: NodeJS.WritableStream & import("node:stream").Writable;
  env?: NodeJS.ProcessEnv;
}

function buildProgram(
  getContext: () => CliContext,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
) {
  const program = new Command("cryptoml")
    .description("Train, tune, track, backtest and monitor neural forecasting models for crypto markets.")
    .option("--config-dir <dir>", "directory of the YAML configuration files", "config")
    .option("--verbose", "print stack traces and debug detail", false)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    // Set before the commands are added so that every subcommand inherits it (help goes to our streams).
    .configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) });
  registerConfigCommands(program, getContext);
  registerDataCommands(program, getContext);
  registerDatasetCommands(program, getContext);
  registerTrainCommands(program, getContext);
  registerTrackingCommands(program, getContext);
  registerTuneCommands(program, getContext);
  registerBacktestCommands(program, getContext);
  registerMonitorCommands(program, getContext);
  registerMonitoringCommands(program, getContext);
  registerAnalyzeCommands(program, getContext);
  program.addHelpText("after", () => `\nEvery command:\n${listCommands(program).join("\n")}\n`);
  return program;
}

/** `  data import    import Binance CSV/zip, ...` for every leaf command, so --help shows them all. */
function listCommands(program: Command): string[] {
  const leaves: [string, string][] = [];
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      if (sub.name() === "help") continue;
      const name = `${prefix}${sub.name()}`;
      if (sub.commands.length === 0) leaves.push([name, sub.description()]);
      else walk(sub, `${name} `);
    }
  };
  walk(program, "");
  const width = Math.max(...leaves.map(([name]) => name.length));
  return leaves.map(([name, description]) => `  ${name.padEnd(width)}  ${description}`);
}

/**
 * Runs the CLI and returns the exit code: 0 on success, 1 on a reported error, 2 on wrong usage.
 * Never throws; errors are printed without a stack trace unless `--verbose`.
 */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  let program: Command | undefined;
  const getContext = (): CliContext => {
    const options = program?.opts<{ configDir: string; verbose: boolean }>() ?? {
      configDir: "config",
      verbose: false,
    };
    return {
      configDir: options.configDir,
      verbose: options.verbose,
      stdout,
      stderr,
      env,
      interactive: Boolean((stderr as { isTTY?: boolean }).isTTY) && !env.CI,
    };
  };
  program = buildProgram(getContext, stdout, stderr);
  const verbose = argv.includes("--verbose");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    return reportError(error, stderr, verbose);
  }
}

/** Exit codes other than 1: wrong usage is 2, an interrupted command 130 (as a shell reports SIGINT). */
const EXIT_CODES: Partial<Record<CryptomlError["code"], number>> = { USAGE: 2, INTERRUPTED: 130 };

function reportError(error: unknown, stderr: NodeJS.WritableStream, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version requests also arrive here, with exit code 0; commander has printed them.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (isCryptomlError(error)) {
    stderr.write(`error [${error.code}]: ${error.message}\n`);
    if (error.hint) stderr.write(`hint: ${error.hint}\n`);
    if (verbose && error.stack) stderr.write(`${error.stack}\n`);
    return EXIT_CODES[error.code] ?? 1;
  }
  const wrapped = new CryptomlError("INTERNAL", error instanceof Error ? error.message : String(error));
  stderr.write(`error [${wrapped.code}]: ${wrapped.message}\n`);
  stderr.write(
    verbose && error instanceof Error && error.stack
      ? `${error.stack}\n`
      : "hint: this is a bug in cryptoml; rerun with --verbose and report the stack trace\n",
  );
  return 1;
}
