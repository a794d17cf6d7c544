/**
 * The JSON Schema files published under schemas/, made from the TypeBox
 * definitions of reports/schema.ts (npm run schemas writes them; a test
 * fails when the committed files differ from what this makes). A piece used
 * in several places (a run's figures, a latency summary) is written once
 * under "definitions" and referred to, so the files stay readable.
 */
import type { TSchema } from "@sinclair/typebox";
import * as S from "./schema.js";

const DRAFT = "http://json-schema.org/draft-07/schema#";

/** Pieces written once, by name. */
const SHARED: Record<string, TSchema> = {
  Scenario: S.ScenarioSchema,
  MessageSize: S.MessageSizeSchema,
  Environment: S.EnvironmentSchema,
  BenchOptions: S.BenchOptionsSchema,
  LoadOptions: S.LoadOptionsSchema,
  RunConfig: S.RunConfigSchema,
  RunLoad: S.RunLoadSchema,
  Figures: S.FiguresSchema,
  LatencySummaryUs: S.LatencySummaryUsSchema,
  EncodedHistogram: S.EncodedHistogramSchema,
  ErrorFigures: S.ErrorFiguresSchema,
  ContextSwitches: S.ContextSwitchesSchema,
  ContextSwitchesPerMessage: S.ContextSwitchesPerMessageSchema,
  ServerExit: S.ServerExitSchema,
  SizeSpec: S.SizeSpecSchema,
  WorkSpec: S.WorkSpecSchema,
  ChatLoad: S.ChatLoadSchema,
  CompletionPortConfig: S.CompletionPortConfigSchema,
  ThreadsSetting: S.ThreadsSettingSchema,
  Spread: S.SpreadSchema,
};

type Json = Record<string, unknown>;

/** A node's identity, apart from the words a use of it adds (description, title). */
function shape(node: unknown): string {
  const { description: _d, title: _t, ...rest } = node as Json;
  return JSON.stringify(rest);
}

const SHAPES = new Map(Object.entries(SHARED).map(([name, schema]) => [shape(JSON.parse(JSON.stringify(schema))), name]));

/** `node` with every shared piece below it replaced by a $ref; the names used are added to `used`. */
function factor(node: unknown, used: Set<string>, top: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => factor(n, used, false));
  if (typeof node !== "object" || node === null) return node;
  const name = top ? undefined : SHAPES.get(shape(node));
  if (name !== undefined) {
    used.add(name);
    const description = (node as Json).description;
    return { $ref: `#/definitions/${name}`, ...(description !== undefined ? { description } : {}) };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, factor(v, used, false)]));
}

function published(schema: TSchema): string {
  const used = new Set<string>();
  const root = factor(JSON.parse(JSON.stringify(schema)), used, true) as Json;
  const definitions: Json = {};
  for (let added = true; added; ) {
    added = false;
    for (const name of [...used].sort()) {
      if (name in definitions) continue;
      definitions[name] = factor(JSON.parse(JSON.stringify(SHARED[name])), used, true);
      added = true;
    }
  }
  const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
  return `${JSON.stringify({ $schema: DRAFT, ...root, ...(used.size > 0 ? { definitions: sorted } : {}) }, null, 2)}\n`;
}

/** File name under schemas/ -> its content. */
export function jsonSchemaFiles(): Record<string, string> {
  return {
    "results.schema.json": published(S.ResultsFileSchema),
    "baseline.schema.json": published(S.BaselineFileSchema),
    "scenario.schema.json": published(S.ScenarioSchema),
  };
}
