// Builds the viewer into one self-contained file, dist/index.html (script and styles inlined): no network, no CDN,
// and it opens from disk as well as from `rlm view`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const bundle = await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "iife",
  target: "es2022",
  minify: true,
  write: false,
  logLevel: "warning",
});
const script = bundle.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
const styles = readFileSync("src/styles.css", "utf8");
const html = readFileSync("src/index.html", "utf8")
  .replace("/*STYLES*/", () => styles)
  .replace("/*SCRIPT*/", () => script);
mkdirSync("dist", { recursive: true });
writeFileSync("dist/index.html", html);
console.log(`dist/index.html: ${(html.length / 1024).toFixed(1)} KiB`);
