// Builds the one-file bundle that notifications serves at /elements/v1/tangible-elements.js.
// `node build.mjs [outfile]`; the same sources and lock file give the same bytes.
import { build } from "esbuild";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const DEFAULT = "../../services/notifications/src/tangible_notifications/static/elements/v1/tangible-elements.js";
const here = fileURLToPath(new URL(".", import.meta.url));

await build({
  absWorkingDir: here,
  entryPoints: ["src/index.ts"],
  outfile: process.argv[2] ? resolve(process.cwd(), process.argv[2]) : resolve(here, DEFAULT),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  charset: "utf8",
  legalComments: "none",
  banner: { js: "/*! Tangible elements v1 | Apache-2.0 */" },
  logLevel: "warning",
});
