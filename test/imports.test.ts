/**
 * The layout's promises, checked on the source tree: no import circle, and
 * arrows that point down the pipeline only (reports/ never reaches into
 * clients/ or servers/). The checker itself is tried on graphs that break
 * each rule, so a checker that finds nothing cannot pass unnoticed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { findCycles, importGraph, layerViolations, specifiers, type ImportGraph, type LayerRules } from "./fixtures/import-graph.js";

/** dist/test/imports.test.js -> the repository root (the .ts sources). */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE_FOLDERS = ["contracts", "native", "protocol", "clients", "servers", "reports", "scenarios", "runner", "cli", "bench", "test"];

/**
 * What each layer may import besides itself. contracts/ are the types that
 * cross layers, so everyone may use them; reports/schema is the results.json
 * contract (it stays in reports/). bench/ and test/ may use anything.
 */
const RULES: LayerRules = {
  contracts: [],
  native: ["contracts"],
  protocol: ["native", "contracts"],
  clients: ["protocol", "native", "contracts"],
  servers: ["protocol", "native", "contracts"],
  reports: ["contracts"],
  scenarios: ["contracts", "servers/models", "reports/schema", "reports/validate"],
  runner: ["clients", "servers", "protocol", "native", "contracts", "reports", "scenarios"],
  cli: ["runner", "clients", "servers", "protocol", "native", "contracts", "reports", "scenarios"],
};

const graph = importGraph(ROOT, SOURCE_FOLDERS);

test("the tree is read: every layer has modules and imports", () => {
  for (const layer of Object.keys(RULES)) assert.ok([...graph.keys()].some((m) => m.startsWith(`${layer}/`)), `no module under ${layer}/`);
  assert.ok(graph.get("reports/derive")?.has("contracts/histogram"), "reports/derive's imports were not read");
  assert.ok(graph.get("clients/client")?.has("clients/worker"), "a worker entry (new URL(..., import.meta.url)) was not read");
});

test("no import circle anywhere (type-only imports, dynamic imports and worker entries count)", () => {
  assert.deepEqual(findCycles(graph), []);
});

test("imports point down the pipeline: reports/ uses no client or server, protocol/ no server, contracts/ nothing", () => {
  assert.deepEqual(layerViolations(graph, RULES), []);
});

test("the checker finds a circle, a self-import and a reports -> clients import when there is one", () => {
  const g: ImportGraph = new Map([
    ["clients/a", new Set(["clients/b"])],
    ["clients/b", new Set(["contracts/x"])],
    ["contracts/x", new Set(["clients/a"])],
    ["servers/s", new Set(["servers/s"])],
    ["reports/r", new Set(["clients/a", "contracts/x"])],
  ]);
  assert.deepEqual(findCycles(g), [["clients/a", "clients/b", "contracts/x"], ["servers/s"]]);
  assert.deepEqual(layerViolations(g, RULES), ["contracts/x -> clients/a", "reports/r -> clients/a"]);
});

test("every kind of import is an edge", () => {
  const text = [
    'import type { A } from "./a.js";',
    'import {\n  b,\n  type C,\n} from "../b.js";',
    'export { d } from "./d.js";',
    'import "./side-effect.js";',
    'const m = await import("./lazy.js");',
    'new Worker(new URL("./worker.js", import.meta.url));',
    'import fs from "node:fs";',
  ].join("\n");
  assert.deepEqual(specifiers(text).sort(), ["../b.js", "./a.js", "./d.js", "./lazy.js", "./side-effect.js", "./worker.js"]);
});
