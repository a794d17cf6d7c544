/**
 * npm run schemas: (re)writes schemas/*.schema.json from reports/schema.ts.
 * With --check, writes nothing and exits 1 if a file is missing or stale.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { jsonSchemaFiles } from "../reports/json-schemas.js";

const DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));
const check = process.argv.includes("--check");
let stale = 0;
fs.mkdirSync(DIR, { recursive: true });
for (const [name, content] of Object.entries(jsonSchemaFiles())) {
  const file = path.join(DIR, name);
  const now = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
  if (now === content) continue;
  if (check) {
    stale++;
    process.stderr.write(`schemas/${name} is out of date: run npm run schemas\n`);
  } else {
    fs.writeFileSync(file, content);
    process.stdout.write(`wrote schemas/${name}\n`);
  }
}
process.exit(stale === 0 ? 0 : 1);
