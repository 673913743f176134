// Compiles test/*.test.ts with esbuild (the bundler the package already uses, so no second
// TypeScript toolchain) and runs them with node's built-in test runner.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}.test-build`;
rmSync(out, { recursive: true, force: true });
const tests = readdirSync(`${root}test`).filter((f) => f.endsWith(".test.ts"));
await build({
  absWorkingDir: root,
  entryPoints: tests.map((f) => `test/${f}`),
  outdir: out,
  bundle: true,
  platform: "node",
  format: "esm",
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
});
const files = tests.map((f) => `${out}/${f.replace(/\.ts$/, ".mjs")}`);
const result = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
