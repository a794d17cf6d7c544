/**
 * Chart specs (plain data, JSON-safe) and how they become Chart.js
 * configurations. This file is used twice: imported in Node to render the
 * PNG charts, and inlined as a module script into report.html. So it must
 * stay self-contained: no runtime imports (type-only imports are erased by
 * the compiler); the whole compiled module is inlined.
 */
import type { ChartConfiguration, Plugin } from "chart.js";

/** One point of a series: x is a category label (threads) or a number; low/high is the error bar, when any. */
/** A model name as part of a chart's id, which names its PNG file and HTML canvas: "cmd:c-echo" -> "cmd-c-echo". */
export function idPart(model: string): string {
  return model.replace(/[^A-Za-z0-9._-]/g, "-");
}

export interface SpecPoint {
  x: number | string;
  y: number | null;
  low?: number;
  high?: number;
}

/** One line of a chart. */
export interface SpecSeries {
  label: string;
  /** Index into the palette (the same model keeps its colour across charts). */
  color: number;
  points: SpecPoint[];
  dash?: boolean;
  /** Dotted (overrides dash). */
  dotted?: boolean;
  /** A point with y null breaks the line (by default lines run across it). */
  gaps?: boolean;
  /** Draw each point (as category charts do; lines on numeric axes have none by default). */
  dots?: boolean;
  /** Points singled out: a ring around each with its label (e.g. the knee of a curve). */
  marks?: { x: number; y: number; label: string }[];
}

/** A chart as plain data (what report.html embeds and what the PNG renderer consumes). */
export interface ChartSpec {
  /** File-name-safe id: the canvas id in HTML, the PNG's name. */
  id: string;
  title: string;
  /** One sentence under the chart: what to look for. */
  caption: string;
  /** "category": x values are labels (threads); "linear"/"log": x values are numbers. */
  xScale: "category" | "linear" | "log";
  /** Category labels, in axis order (xScale "category" only). */
  categories?: string[];
  /** Formats log-x ticks as percentiles (x = 1 / (1 - p)). */
  xPercentile?: boolean;
  yScale: "linear" | "log";
  xTitle: string;
  yTitle: string;
  series: SpecSeries[];
  /** A dashed vertical line at this x, with its label (e.g. where the warm-up ends). */
  marker?: { x: number; label: string };
  /** A dashed horizontal line at this y, with its label (e.g. an objective's latency bound). */
  hline?: { y: number; label: string };
}

type Config = ChartConfiguration<"line", (number | null | { x: number; y: number | null })[], string>;

/** Draws error bars (from each dataset's `errorBars`), the marker line and a white background; shared by HTML and PNG. */
export const reportPlugin: Plugin<"line"> = {
  id: "iobenchReport",
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx;
    const y = chart.scales.y;
    if (y === undefined) return;
    chart.data.datasets.forEach((dataset, i) => {
      const bars = (dataset as unknown as { errorBars?: ({ low: number; high: number } | null)[] }).errorBars;
      const meta = chart.getDatasetMeta(i);
      if (bars === undefined || meta.hidden) return;
      ctx.save();
      ctx.strokeStyle = String(dataset.borderColor);
      ctx.lineWidth = 1.5;
      meta.data.forEach((point, j) => {
        const bar = bars[j];
        if (bar === null || bar === undefined || bar.high <= bar.low) return;
        const top = y.getPixelForValue(bar.high);
        const bottom = y.getPixelForValue(bar.low);
        ctx.beginPath();
        ctx.moveTo(point.x, top);
        ctx.lineTo(point.x, bottom);
        ctx.moveTo(point.x - 5, top);
        ctx.lineTo(point.x + 5, top);
        ctx.moveTo(point.x - 5, bottom);
        ctx.lineTo(point.x + 5, bottom);
        ctx.stroke();
      });
      ctx.restore();
    });
    const family = (chart.options as { font?: { family?: string } }).font?.family ?? "sans-serif";
    chart.data.datasets.forEach((dataset, i) => {
      const marks = (dataset as unknown as { marks?: { x: number; y: number; label: string }[] }).marks;
      const xs = chart.scales.x;
      if (marks === undefined || xs === undefined || chart.getDatasetMeta(i).hidden) return;
      ctx.save();
      ctx.strokeStyle = String(dataset.borderColor);
      ctx.fillStyle = String(dataset.borderColor);
      ctx.lineWidth = 2;
      ctx.font = `bold 11px ${family}`;
      for (const m of marks) {
        const px = xs.getPixelForValue(m.x);
        const py = y.getPixelForValue(m.y);
        ctx.beginPath();
        ctx.arc(px, py, 7, 0, 2 * Math.PI);
        ctx.stroke();
        ctx.fillText(m.label, px + 9, py - 9);
      }
      ctx.restore();
    });
    const hline = (chart.options.plugins as { iobenchHline?: { y: number; label: string } }).iobenchHline;
    if (hline !== undefined) {
      const py = y.getPixelForValue(hline.y);
      ctx.save();
      ctx.strokeStyle = "#c62828";
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(chart.chartArea.left, py);
      ctx.lineTo(chart.chartArea.right, py);
      ctx.stroke();
      ctx.fillStyle = "#c62828";
      ctx.font = `11px ${family}`;
      ctx.fillText(hline.label, chart.chartArea.left + 4, py - 4);
      ctx.restore();
    }
    const marker = (chart.options.plugins as { iobenchMarker?: { x: number; label: string } }).iobenchMarker;
    const x = chart.scales.x;
    if (marker !== undefined && x !== undefined) {
      const px = x.getPixelForValue(marker.x);
      ctx.save();
      ctx.strokeStyle = "#888888";
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(px, chart.chartArea.top);
      ctx.lineTo(px, chart.chartArea.bottom);
      ctx.stroke();
      ctx.fillStyle = "#555555";
      ctx.font = `11px ${family}`;
      ctx.fillText(marker.label, px + 4, chart.chartArea.top + 12);
      ctx.restore();
    }
  },
};

/** Colour-blind-safe palette (Okabe–Ito), indexed by SpecSeries.color. */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

/** A log-x tick as a percentile: x = 1 / (1 - p), so 10 → 90 %, 1000 → 99.9 %; only powers of ten are labelled. */
export function percentileTick(x: number): string {
  const decade = Math.log10(x);
  if (Math.abs(decade - Math.round(decade)) > 1e-9) return "";
  const p = 100 * (1 - 1 / x);
  return `${Number(p.toFixed(Math.max(0, Math.round(decade) - 2)))}%`;
}

/**
 * y-axis bounds that hold every value and every error bar (Chart.js sizes the
 * axis from the values only): on a log axis from and to a labelled 1-2-5
 * step, so no point sits on the frame; from zero up on a linear one.
 */
function yBounds(spec: ChartSpec): { min?: number; max?: number; suggestedMax?: number } {
  const values = [...spec.series.flatMap((s) => s.points.flatMap((p) => [p.y, p.low, p.high])), spec.hline?.y].filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (spec.yScale === "linear") return values.length === 0 ? { min: 0 } : { min: 0, suggestedMax: Math.max(...values) };
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return {};
  // The nearest 1, 2 or 5 × 10^n outside the values: labelled ticks (see logTick) at both ends.
  const steps = (v: number): number[] => {
    const d = 10 ** Math.floor(Math.log10(v));
    return [d, 2 * d, 5 * d, 10 * d];
  };
  const low = Math.min(...positive);
  const high = Math.max(...positive);
  return { min: steps(low).filter((x) => x <= low).pop()!, max: steps(high).find((x) => x >= high)! };
}

/** A log-y tick: labelled at 1, 2 and 5 × 10^n only (Chart.js labels every 1–9, which crowds). */
export function logTick(value: number): string {
  const mantissa = Number((value / 10 ** Math.floor(Math.log10(value))).toPrecision(3));
  return mantissa === 1 || mantissa === 2 || mantissa === 5 ? value.toLocaleString("en-US") : "";
}

/** The Chart.js configuration of a spec (no animation: a PNG and a screenshot must show the final chart). */
export function toChartConfig(spec: ChartSpec): Config {
  const category = spec.xScale === "category";
  const datasets = spec.series.map((s) => {
    const color = PALETTE[s.color % PALETTE.length]!;
    const data = category
      ? (spec.categories ?? []).map((c) => s.points.find((p) => String(p.x) === c)?.y ?? null)
      : s.points.map((p) => ({ x: Number(p.x), y: p.y }));
    const errorBars = category
      ? (spec.categories ?? []).map((c) => {
          const p = s.points.find((q) => String(q.x) === c);
          return p !== undefined && p.low !== undefined && p.high !== undefined ? { low: p.low, high: p.high } : null;
        })
      : undefined;
    return {
      label: s.label,
      data,
      borderColor: color,
      backgroundColor: color,
      borderWidth: 2,
      borderDash: s.dotted === true ? [2, 3] : s.dash === true ? [6, 4] : [],
      pointRadius: category ? 3 : s.gaps === true || s.dots === true ? 2 : 0,
      spanGaps: s.gaps !== true,
      ...(errorBars !== undefined && errorBars.some((b) => b !== null) ? { errorBars } : {}),
      ...(s.marks !== undefined && s.marks.length > 0 ? { marks: s.marks } : {}),
    };
  });
  return {
    type: "line",
    data: { ...(category ? { labels: spec.categories ?? [] } : {}), datasets },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: spec.title, font: { size: 15 } },
        legend: { position: "bottom" },
        ...(spec.marker !== undefined ? { iobenchMarker: spec.marker } : {}),
        ...(spec.hline !== undefined ? { iobenchHline: spec.hline } : {}),
      },
      scales: {
        x: {
          type: spec.xScale === "log" ? "logarithmic" : spec.xScale,
          title: { display: true, text: spec.xTitle },
          ...(category ? { offset: true } : spec.xScale === "linear" ? { min: 0 } : {}),
          ...(spec.xPercentile === true ? { ticks: { callback: (v: number | string) => percentileTick(Number(v)), autoSkip: false, maxRotation: 0 } } : {}),
        },
        y: {
          type: spec.yScale === "log" ? "logarithmic" : "linear",
          title: { display: true, text: spec.yTitle },
          ...yBounds(spec),
          ...(spec.yScale === "log" ? { ticks: { callback: (v: number | string) => logTick(Number(v)), autoSkip: false } } : {}),
        },
      },
    },
    plugins: [reportPlugin],
  } as Config;
}
