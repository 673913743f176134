// Parses an AsyncAPI document with the reference parser (@asyncapi/parser, its Spectral
// ruleset included) and prints its diagnostics as JSON: [{severity, code, message, path}].
// Severity 0 is an error, 1 a warning (as Spectral numbers them).
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const text = readFileSync(process.argv[2], "utf8");
const { document, diagnostics } = await new Parser().parse(text);
const out = diagnostics.map((d) => ({
  severity: d.severity,
  code: String(d.code),
  message: d.message,
  path: d.path.join("/"),
}));
process.stdout.write(
  JSON.stringify({
    parsed: document !== undefined,
    receive: document ? document.operations().filterByReceive().length : 0,
    servers: document ? document.servers().length : 0,
    diagnostics: out,
  }),
);
