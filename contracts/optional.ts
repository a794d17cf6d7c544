/**
 * Packages that one flag alone needs, installed only by who uses that flag
 * (`npm install` stays small for everyone else): clinic for --profile
 * (about 150 MB and most of what it would bring), autocannon for
 * --client autocannon. package.json does not list them (npm never installs
 * an optional peer, not even when asked by name); the versions tested are
 * clinic 13 and autocannon 8 (.ci/run installs those).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** Each optional package and the flag that needs it. */
export const OPTIONAL_PACKAGES = { clinic: "--profile", autocannon: "--client autocannon" } as const;
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

const require = createRequire(import.meta.url);

/** The installed package's folder, or null when it is not installed. */
export function optionalPackageDir(name: OptionalPackage): string | null {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** The one line that says a flag's package is missing and how to add it. */
export function missingPackage(name: OptionalPackage): string {
  return `${OPTIONAL_PACKAGES[name]} needs ${name}, which is not installed: npm install ${name}`;
}

/** The script of an installed package's command (clinic's bin.js), or null when the package is not installed. */
export function optionalBin(name: OptionalPackage): string | null {
  const dir = optionalPackageDir(name);
  if (dir === null) return null;
  const bin = (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { bin?: string | Record<string, string> }).bin;
  const file = typeof bin === "string" ? bin : bin?.[name];
  return file === undefined ? null : path.join(dir, file);
}
