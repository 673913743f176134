// Prints the bundle's Subresource Integrity hash and size, and writes the hash into the
// READMEs that publish it (`npm run sri`, after `npm run build`).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bundle = readFileSync(`${root}services/notifications/src/tangible_notifications/static/elements/v1/tangible-elements.js`);
const sri = `sha384-${createHash("sha384").update(bundle).digest("base64")}`;
for (const readme of ["README.md", "services/notifications/README.md", "web/elements/README.md"]) {
  const path = `${root}${readme}`;
  writeFileSync(path, readFileSync(path, "utf8").replace(/sha384-[A-Za-z0-9+/=]+/g, sri));
}
console.log(`${sri}\n${bundle.length} bytes, ${gzipSync(bundle, { level: 9 }).length} bytes gzipped`);
