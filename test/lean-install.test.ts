/**
 * The lean install: `npm install` brings neither clinic nor autocannon
 * (contracts/optional.ts), and without them the flag that needs one says
 * in one line how to add it while everything else runs. The install is
 * simulated: a copy of dist/ beside a node_modules that holds every
 * package but those two (a copy, not a link: Node resolves packages from
 * a module's real path).
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { cli } from "./fixtures/cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LEFT_OUT = ["clinic", "autocannon"];
let lean = "";

before(() => {
  lean = mkdtempSync(path.join(tmpdir(), "iobench-lean-"));
  cpSync(path.join(ROOT, "dist"), path.join(lean, "dist"), { recursive: true });
  symlinkSync(path.join(ROOT, "build"), path.join(lean, "build"));
  symlinkSync(path.join(ROOT, "package.json"), path.join(lean, "package.json"));
  mkdirSync(path.join(lean, "node_modules"));
  for (const entry of readdirSync(path.join(ROOT, "node_modules"))) {
    if (!LEFT_OUT.includes(entry) && entry !== ".bin") symlinkSync(path.join(ROOT, "node_modules", entry), path.join(lean, "node_modules", entry));
  }
});

after(() => rmSync(lean, { recursive: true, force: true }));

const main = (): string => path.join(lean, "dist/cli/main.js");

test("package.json and its lock bring neither clinic nor autocannon", () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as Record<string, Record<string, unknown> | undefined>;
  const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
  for (const name of LEFT_OUT) {
    for (const field of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]) {
      assert.equal(pkg[field]?.[name], undefined, `${name} is in ${field} (npm install would bring it, or refuse to install it by name)`);
    }
    assert.equal(lock.packages[`node_modules/${name}`], undefined, `${name} is in package-lock.json`);
  }
});

test("without clinic, --profile says how to add it, in one line, exit 2", { timeout: 30_000 }, async () => {
  const r = await cli(["bench", "--model", "epoll", "--profile", "doctor", "--duration", "0.2"], { main: main() });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, "iobench: --profile needs clinic, which is not installed: npm install clinic\n");
});

test("without autocannon, --client autocannon says how to add it, in one line, exit 2", { timeout: 30_000 }, async () => {
  const r = await cli(["bench", "--model", "epoll", "--protocol", "http", "--client", "autocannon", "--duration", "0.2"], { main: main() });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, "iobench: --client autocannon needs autocannon, which is not installed: npm install autocannon\n");
});

test("without them, a run and its report work", { timeout: 60_000 }, async () => {
  const out = path.join(lean, "results");
  const r = await cli(["bench", "--model", "epoll", "--threads", "1", "--connections", "4", "--duration", "0.3", "--warmup", "0.1", "--repeats", "1", "--json", "--out", out], { main: main() });
  assert.equal(r.code, 0, r.stderr);
  const results = JSON.parse(r.stdout) as { runs: { status: string; figures: { messages: number } }[] };
  assert.equal(results.runs[0]?.status, "ok");
  assert.ok((results.runs[0]?.figures.messages ?? 0) > 0);
  assert.ok(readdirSync(out).length > 0);
});
