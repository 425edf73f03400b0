/**
 * Hand-written SVG charts of one backtest (no dependency): the equity curve with buy-and-hold and the
 * drawdown beneath it, and the positions beneath the open price, in one file. Plain polylines, so any
 * browser shows them.
 */
import type { SymbolBacktest } from "./report.js";

const WIDTH = 900;
const PAD = 50;

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Panel {
  readonly top: number;
  readonly height: number;
  readonly title: string;
  readonly series: readonly {
    readonly values: ArrayLike<number>;
    readonly color: string;
    readonly step?: boolean;
  }[];
  /** Fixed y range; default the series' min and max. */
  readonly range?: readonly [number, number];
}

/** Keeps at most `max` evenly spaced points, so a long backtest does not make a huge file. */
function thin(n: number, max = 1500): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

function panelSvg(panel: Panel): string {
  const finiteValues = panel.series.flatMap((s) => Array.from(s.values).filter(Number.isFinite));
  let [lo, hi] = panel.range ?? [Math.min(...finiteValues), Math.max(...finiteValues)];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const plotWidth = WIDTH - 2 * PAD;
  const y = (v: number) => panel.top + panel.height - ((v - lo) / (hi - lo)) * panel.height;
  const parts = [
    `<text x="${PAD}" y="${panel.top - 6}" font-size="12">${escapeXml(panel.title)}</text>`,
    `<rect x="${PAD}" y="${panel.top}" width="${plotWidth}" height="${panel.height}" fill="none" stroke="#ccc"/>`,
    `<text x="${PAD - 4}" y="${panel.top + 10}" font-size="10" text-anchor="end">${fmt(hi)}</text>`,
    `<text x="${PAD - 4}" y="${panel.top + panel.height}" font-size="10" text-anchor="end">${fmt(lo)}</text>`,
  ];
  if (lo < 0 && hi > 0) {
    parts.push(
      `<line x1="${PAD}" x2="${WIDTH - PAD}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#999" stroke-dasharray="3,3"/>`,
    );
  }
  for (const s of panel.series) {
    const n = s.values.length;
    const x = (i: number) => PAD + (n > 1 ? (i / (n - 1)) * plotWidth : 0);
    const points: string[] = [];
    let previous: number | undefined;
    for (const i of thin(n)) {
      const v = s.values[i] as number;
      if (!Number.isFinite(v)) continue;
      if (s.step && previous !== undefined) points.push(`${x(i).toFixed(1)},${y(previous).toFixed(1)}`);
      points.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      previous = v;
    }
    if (points.length > 0) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1" points="${points.join(" ")}"/>`);
    }
  }
  return parts.join("\n");
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function svgDocument(title: string, panels: readonly Panel[], height: number): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" font-size="14" text-anchor="middle">${escapeXml(title)}</text>`,
    ...panels.map(panelSvg),
    "</svg>",
  ].join("\n");
}

/**
 * One chart of a symbol's backtest, four panels stacked on a shared time axis: equity (strategy in blue,
 * buy-and-hold in grey), its drawdown from the running peak (red), the open price, and the position held
 * (−1 short … +1 long) beneath the price.
 */
export function backtestChart(s: SymbolBacktest, open: Float64Array, label: string): string {
  const { equity, position } = s.result.candles;
  const start = s.result.startingBalance;
  const drawdown = new Float64Array(equity.length);
  const hold = new Float64Array(equity.length);
  let peak = start;
  let held = start;
  equity.forEach((e, k) => {
    peak = Math.max(peak, e);
    drawdown[k] = e / peak - 1;
    held *= 1 + (s.assetReturns[k] as number);
    hold[k] = held;
  });
  const price = open.subarray(s.result.startRow, s.result.endRow + 1);
  return svgDocument(
    `${s.symbol} backtest (${label})`,
    [
      {
        top: 50,
        height: 240,
        title: "equity (blue: strategy, grey: buy and hold)",
        series: [
          { values: hold, color: "#999" },
          { values: equity, color: "#1f77b4" },
        ],
      },
      { top: 320, height: 100, title: "drawdown", series: [{ values: drawdown, color: "#d62728" }] },
      { top: 450, height: 200, title: "open price", series: [{ values: price, color: "#333" }] },
      {
        top: 680,
        height: 100,
        title: "position (+1 long, -1 short)",
        series: [{ values: position, color: "#2ca02c", step: true }],
        range: [-1, 1],
      },
    ],
    800,
  );
}
