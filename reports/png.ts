/**
 * PNG charts rendered in Node: Chart.js drawing on @napi-rs/canvas (a
 * prebuilt Skia binary from the npm registry, so `npm install` needs no
 * cairo/pango system packages, unlike chartjs-node-canvas → canvas). Pinned
 * to exactly 1.0.11: 1.0.13–1.1.1 break `npm ci` on the machines we run on.
 */
import { GlobalFonts, createCanvas } from "@napi-rs/canvas";
import { Chart, registerables } from "chart.js";
import { toChartConfig } from "./chart-kit.js";
import type { ChartSpec } from "./chart-kit.js";

/** PNG size, px. */
export const PNG_WIDTH = 900;
export const PNG_HEIGHT = 450;

/** Font families tried in order; the first one installed is used (Skia draws nothing for a missing family). */
const PREFERRED_FONTS = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans"];

let ready = false;

function setUp(): void {
  if (ready) return;
  Chart.register(...registerables);
  const installed = new Set(GlobalFonts.families.map((f) => f.family));
  const font = PREFERRED_FONTS.find((f) => installed.has(f)) ?? [...installed][0];
  if (font !== undefined) Chart.defaults.font.family = font;
  ready = true;
}

/** One chart as PNG bytes. */
export function renderPng(spec: ChartSpec): Buffer {
  setUp();
  const canvas = createCanvas(PNG_WIDTH, PNG_HEIGHT);
  // Chart.js takes any object with getContext("2d"); off the DOM it uses its basic platform.
  const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], toChartConfig(spec));
  try {
    return canvas.toBuffer("image/png");
  } finally {
    chart.destroy();
  }
}
