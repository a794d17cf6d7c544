/**
 * The copy-paste check of `npm test`: jscpd over the source folders, any
 * run of 10 or more repeated lines (50 tokens) fails. Import statements are
 * blanked first (lines kept, so the line numbers jscpd prints are the
 * files' own): two files that import the same things repeat no logic.
 *
 *   npm run copy-paste [-- folder...]   (default: every source folder)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** dist/scripts/copy-paste.js -> the repository root. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FOLDERS = process.argv.length > 2 ? process.argv.slice(2) : ["contracts", "scripts", "native", "protocol", "clients", "servers", "reports", "scenarios", "runner", "cli", "bench", "test"];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

const copy = mkdtempSync(path.join(tmpdir(), "iobench-copy-paste-"));
try {
  for (const file of FOLDERS.flatMap((f) => tsFiles(path.resolve(ROOT, f)))) {
    const rel = path.relative(ROOT, file).replace(/^(\.\.\/)+/, "outside/");
    const text = readFileSync(file, "utf8").replace(/^import\s[\s\S]*?;$/gm, (m) => m.replace(/[^\n]/g, ""));
    mkdirSync(path.dirname(path.join(copy, rel)), { recursive: true });
    writeFileSync(path.join(copy, rel), text);
  }
  const bin = process.env.JSCPD_BIN ?? path.join(ROOT, "node_modules/.bin/jscpd");
  const r = spawnSync(bin, ["--min-lines", "10", "--min-tokens", "50", "--format", "typescript", "--reporters", "console", "--threshold", "0", "."], {
    cwd: copy,
    encoding: "utf8",
  });
  // eslint-disable-next-line no-control-regex -- jscpd colours its output
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
  const clones = out.split("\n").filter((l) => /^\s+(-\s)?\S+\.ts \[/.test(l));
  if (r.error !== undefined || r.status === null) {
    console.error(`copy-paste: jscpd did not run (${r.error?.message ?? `signal ${r.signal}`}); is it installed (npm install)?`);
    process.exit(2);
  }
  if (clones.length > 0) {
    console.error("copy-paste: repeated code (10+ lines), make it one piece that both places use:");
    for (const l of clones) console.error(l);
    process.exit(1);
  }
  if (!/Found 0 clones|No duplicates found/i.test(out) && !/Found \d+ clones/.test(out)) {
    console.error(`copy-paste: unexpected jscpd output:\n${out}`);
    process.exit(2);
  }
  console.log(`copy-paste: no repeated run of 10+ lines in ${FOLDERS.join(", ")}`);
} finally {
  rmSync(copy, { recursive: true, force: true });
}
