// Bundle the widget into dist/ (one script, one stylesheet). Run by `make widget`.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/index.js"],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2019"],
  outfile: "dist/iom-chat.js",
  legalComments: "linked",
});
copyFileSync("src/iom-chat.css", "dist/iom-chat.css");
copyFileSync("src/page.css", "dist/page.css");
console.log("widget: dist/iom-chat.js, dist/iom-chat.css");
