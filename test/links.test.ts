/**
 * Every relative link and #anchor in README.md and docs/*.md resolves
 * (scripts/doc-links.ts), and the checker finds each kind of broken link.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { anchors, brokenLinks, documentationFiles, slug } from "../scripts/doc-links.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

test("every relative link and anchor in README.md and docs/*.md resolves", () => {
  const files = documentationFiles(ROOT);
  assert.ok(files.length > 5, "README.md and the docs/ pages are found");
  const broken = brokenLinks(ROOT, files).map((b) => `${b.file}:${b.line}: ${b.target}: ${b.problem}`);
  assert.deepEqual(broken, []);
});

test("anchors are GitHub's: inline code and punctuation, repeated headings numbered", () => {
  assert.equal(slug("Client engines (`--client-engine`)"), "client-engines---client-engine");
  assert.equal(slug("Client vs C (`npm run bench:client`)"), "client-vs-c-npm-run-benchclient");
  assert.equal(slug("The chapter's claims, p99 µs"), "the-chapters-claims-p99-µs");
  assert.equal(slug("See [the port](completion-port.md) now"), "see-the-port-now");
  const a = anchors("# Title\n\n## Flags\n\n```sh\n# not a heading\n```\n\n## Flags\n\n<a id=\"kept\"></a>\n## C# ##\n");
  assert.deepEqual([...a].sort(), ["c", "flags", "flags-1", "kept", "title"].sort());
});

test("the checker reports a missing file, a missing anchor and an anchor into a source file, and nothing else", () => {
  const root = mkdtempSync(path.join(tmpdir(), "iobench-links-test-"));
  try {
    mkdirSync(path.join(root, "docs"));
    mkdirSync(path.join(root, "src"));
    writeFileSync(path.join(root, "src", "a.ts"), "export {};\n");
    writeFileSync(path.join(root, "docs", "topic.md"), "# Topic\n\n## Per-message work\n\nBack to [the front](../README.md#set-up).\n");
    writeFileSync(
      path.join(root, "README.md"),
      [
        "# Tool",
        "## Set up",
        "[ok](docs/topic.md#per-message-work) [ok](src/a.ts) [ok](src/) [ok](#set-up) [ok](src/a.ts#L3) [site](https://example.org/x#y)",
        "`[code](missing.md)` is an example, not a link",
        "```",
        "[fenced](missing.md)",
        "```",
        "[gone](docs/gone.md) [stale](docs/topic.md#per-message-server-work) [here](#nowhere) [into code](src/a.ts#main)",
        "[ref]: docs/also-gone.md",
      ].join("\n"),
    );
    const broken = brokenLinks(root, documentationFiles(root)).map((b) => `${b.file}:${b.line} ${b.target}`);
    assert.deepEqual(broken, [
      "README.md:8 docs/gone.md",
      "README.md:8 docs/topic.md#per-message-server-work",
      "README.md:8 #nowhere",
      "README.md:8 src/a.ts#main",
      "README.md:9 docs/also-gone.md",
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
