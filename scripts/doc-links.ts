/**
 * The documentation's link check (test/links.test.ts runs it in `npm test`):
 * every relative link in README.md and docs/*.md must name a file or folder
 * that exists, and every `#anchor` a heading (or an HTML id) of the page it
 * points into. Links to other sites are not fetched: the tests run offline.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** A link that does not resolve: where it is, what it says, why. */
export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  problem: string;
}

/** The pages the check covers: the front page and every page in docs/. */
export function documentationFiles(root: string): string[] {
  const docs = path.join(root, "docs");
  const pages = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith(".md")).sort().map((f) => path.join(docs, f)) : [];
  return [path.join(root, "README.md"), ...pages];
}

/** Lines outside fenced code blocks, with inline code blanked (a link inside code is an example, not a link). */
function proseLines(markdown: string): { raw: string; text: string; line: number }[] {
  const out: { raw: string; text: string; line: number }[] = [];
  let fence: string | null = null;
  markdown.split("\n").forEach((raw, i) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (opener) {
      const mark = opener[1] as string;
      if (fence === null) fence = mark[0] as string;
      else if (mark[0] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ raw, text: raw.replace(/(`+)[^`]*?\1/g, (m) => " ".repeat(m.length)), line: i + 1 });
  });
  return out;
}

/**
 * The anchor GitHub gives a heading: its rendered text lower-cased, every
 * character but letters, digits, spaces, `-` and `_` dropped, spaces made `-`.
 */
export function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link renders as its text
    .replace(/<[^>]+>/g, "") // inline HTML renders as nothing here
    .replace(/`/g, "");
  return rendered.trim().toLowerCase().replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "").replace(/\s/g, "-");
}

/** Every anchor a page defines: its headings' slugs (repeats numbered -1, -2, as GitHub does) and HTML ids/names. */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const { raw, text } of proseLines(markdown)) {
    // The slug is made from the heading as written: its inline code counts.
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(raw);
    if (heading) {
      const base = slug(heading[1] as string);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      found.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of text.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) found.add(m[1] as string);
  }
  return found;
}

/** The links of a page: inline `[text](target)` / `![alt](target)` and reference definitions `[id]: target`. */
export function links(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  for (const { text, line } of proseLines(markdown)) {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1] as string, line });
    const ref = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (ref) out.push({ target: ref[1] as string, line });
  }
  return out;
}

/** Checks every link of the given pages; returns the broken ones (none: the documentation holds together). */
export function brokenLinks(root: string, files: string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (file: string): Set<string> => {
    let a = anchorCache.get(file);
    if (!a) anchorCache.set(file, (a = anchors(readFileSync(file, "utf8"))));
    return a;
  };
  for (const file of files) {
    const rel = path.relative(root, file);
    for (const { target, line } of links(readFileSync(file, "utf8"))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: another site
      const hash = target.indexOf("#");
      const filePart = decodeURI(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
      const dest = filePart === "" ? file : path.resolve(path.dirname(file), filePart);
      const report = (problem: string): void => void broken.push({ file: rel, line, target, problem });
      if (!existsSync(dest)) {
        report(`${path.relative(root, dest)} does not exist`);
        continue;
      }
      if (anchor === null || anchor === "") continue;
      if (statSync(dest).isDirectory() || !dest.endsWith(".md")) {
        // GitHub's #L10 line anchors into source files are not headings; leave them alone.
        if (!/^L\d+(-L\d+)?$/.test(anchor)) report(`#${anchor} points into ${path.relative(root, dest)}, which has no headings`);
        continue;
      }
      if (!anchorsOf(dest).has(anchor)) report(`${path.relative(root, dest)} has no heading #${anchor}`);
    }
  }
  return broken;
}
