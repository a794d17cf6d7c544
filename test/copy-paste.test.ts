/**
 * The copy-paste check of `npm test` (scripts/copy-paste.mjs) finds a
 * repeated run when there is one, and does not count shared imports.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../scripts/copy-paste.js", import.meta.url));

/** Twelve lines of logic, the same in every file that includes them. */
const RUN = Array.from({ length: 12 }, (_, i) => `  total += values[${i}] * weights[${i}] + offsets[${i}];`).join("\n");
const IMPORTS = Array.from({ length: 14 }, (_, i) => `import { name${i}, other${i} } from "./module-${i}.js";`).join("\n");

function check(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "iobench-copy-paste-test-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a run of 12 repeated lines in two files fails the check, naming both places", { timeout: 30_000 }, () => {
  const a = `export function a(values: number[], weights: number[], offsets: number[]): number {\n  let total = 0;\n${RUN}\n  return total;\n}\n`;
  const b = `export function b(values: number[], weights: number[], offsets: number[]): number {\n  let total = 1;\n${RUN}\n  return total * 2;\n}\n`;
  const r = check({ "a.ts": a, "b.ts": b });
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /a\.ts \[/);
  assert.match(r.output, /b\.ts \[/);
});

test("files that only import the same things pass", { timeout: 30_000 }, () => {
  const r = check({ "a.ts": `${IMPORTS}\nexport const a = 1;\n`, "b.ts": `${IMPORTS}\nexport const b = "two";\n` });
  assert.equal(r.status, 0, r.output);
});
