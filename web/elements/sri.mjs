// Prints the bundle's Subresource Integrity hash and size, and writes the hash into the
// READMEs that publish it (`npm run sri`, after `npm run build`).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bundle = readFileSync(`${root}services/notifications/src/tangible_notifications/static/elements/v1/tangible-elements.js`);
const sri = `sha384-${createHash("sha384").update(bundle).digest("base64")}`;
const gzipped = gzipSync(bundle, { level: 9 }).length;
const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
for (const readme of ["README.md", "services/notifications/README.md", "web/elements/README.md"]) {
  const path = `${root}${readme}`;
  const text = readFileSync(path, "utf8")
    .replace(/sha384-[A-Za-z0-9+/=]+/g, sri)
    // the size figures the READMEs state, as measured now
    .replace(/\b\d+(\.\d)? kB gzipped/g, `${kB(gzipped)} gzipped`)
    .replace(/\b\d+(\.\d)? kB minified; [\d,]+ bytes/g, `${kB(bundle.length)} minified; ${gzipped.toLocaleString("en")} bytes`);
  writeFileSync(path, text);
}
console.log(`${sri}\n${bundle.length} bytes, ${gzipped} bytes gzipped`);
