import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { backtestChart } from "../../backtest/charts.js";
import { openRun, predictSymbol, type SymbolPredictions } from "../../backtest/predict.js";
import { backtestPredictions, formatReport, reportJson } from "../../backtest/report.js";
import type { StrategySpec } from "../../backtest/types.js";
import { UsageError } from "../../core/errors.js";
import { parseInterval } from "../../data/intervals.js";
import { ArrowFileCandleStore } from "../../data/store/arrow-file-store.js";
import { parseSymbols } from "../../data/symbols.js";
import { type CliContext, print } from "../context.js";
import { readStoredSeries } from "./data.js";

interface BacktestCliOptions {
  runDir: string;
  symbols?: string;
  strategy?: string;
  threshold?: string;
  feeBps: string;
  slippageBps: string;
  balance: string;
  out?: string;
  json?: boolean;
  inSample?: boolean;
}

function parseNumber(flag: string, value: string, min: number, strict = false): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (strict ? n <= min : n < min)) {
    throw new UsageError(`${flag} ${value} must be a number ${strict ? ">" : ">="} ${min}`);
  }
  return n;
}

/** The strategy of the flags; without --strategy, `sign` on the forecast return, or `sized` by probability. */
function parseStrategy(options: BacktestCliOptions, predicted: readonly SymbolPredictions[]): StrategySpec {
  const hasReturn = predicted.every((p) => p.hasReturn);
  const hasProbability = predicted.every((p) => p.hasProbability);
  const kind = options.strategy ?? (hasReturn ? "sign" : "sized");
  const threshold = options.threshold === undefined ? 0 : parseNumber("--threshold", options.threshold, 0);
  if (kind === "sign" || kind === "long_only") {
    if (!hasReturn) {
      throw new UsageError(`--strategy ${kind} needs a forecast return, but the models only classify`, {
        hint: "use --strategy sized (by probability)",
      });
    }
    return { kind, threshold };
  }
  if (kind === "sized") {
    return { kind, by: hasProbability ? "probability" : "magnitude", cap: 1 };
  }
  throw new UsageError(`--strategy ${kind} is not a strategy`, { hint: "use sign, long_only or sized" });
}

export function registerBacktestCommands(program: Command, getContext: () => CliContext): void {
  program
    .command("backtest")
    .description("backtest a trained run's models on their test part, per symbol and as a portfolio")
    .requiredOption("--run-dir <dir>", "run directory written by cryptoml train")
    .option("--symbols <list>", "comma-separated symbols (default: the run's symbols)")
    .option("--strategy <kind>", "sign | long_only | sized (default: sign, or sized for classifiers)")
    .option("--threshold <x>", "dead band on the forecast log return for sign and long_only", undefined)
    .option("--fee-bps <bps>", "exchange fee per side, basis points", "10")
    .option("--slippage-bps <bps>", "slippage per side, basis points", "5")
    .option("--balance <amount>", "starting balance", "10000")
    .option("--out <dir>", "directory of the SVG charts (default: <run dir>/backtest)")
    .option("--json", "print the report as JSON")
    .option("--in-sample", "backtest the training part instead of the test part (not evidence of skill)")
    .action(async (options: BacktestCliOptions) => {
      const ctx = getContext();
      const log = (line: string) => print(ctx.stderr, line);
      const costs = {
        feeBps: parseNumber("--fee-bps", options.feeBps, 0),
        slippageBps: parseNumber("--slippage-bps", options.slippageBps, 0),
      };
      const startingBalance = parseNumber("--balance", options.balance, 0, true);
      const run = await openRun(options.runDir);
      const { config } = run.saved;
      const store = new ArrowFileCandleStore(resolve(config.data.store_dir));
      const interval = parseInterval(config.data.interval);
      const symbols = options.symbols === undefined ? [...run.saved.symbols] : parseSymbols(options.symbols);
      const inSample = options.inSample === true;
      if (inSample) log("IN-SAMPLE: backtesting the training part the models were fitted on");
      const predicted: SymbolPredictions[] = [];
      for (const symbol of symbols) {
        const series = await readStoredSeries(store, symbol, interval);
        predicted.push(await predictSymbol(run, series, inSample));
      }
      const strategy = parseStrategy(options, predicted);
      const report = backtestPredictions(predicted, {
        runDir: run.runDir.path,
        strategy,
        costs,
        startingBalance,
      });
      const outDir = resolve(options.out ?? join(run.runDir.path, "backtest"));
      await mkdir(outDir, { recursive: true });
      const label = inSample ? "IN-SAMPLE" : "out of sample";
      const suffix = inSample ? "-in-sample" : "";
      const files: string[] = [];
      for (const [i, s] of report.symbols.entries()) {
        const series = (predicted[i] as SymbolPredictions).series;
        const file = join(outDir, `${s.symbol}${suffix}.svg`);
        await writeFile(file, backtestChart(s, series.open, label));
        files.push(file);
      }
      print(
        ctx.stdout,
        options.json ? JSON.stringify(reportJson(report, files), null, 2) : formatReport(report, files),
      );
    });
}
