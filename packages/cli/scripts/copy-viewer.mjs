// Copies the trajectory viewer (one self-contained HTML file, built by apps/viewer) into dist/, for `rlm view`.
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
copyFileSync(require.resolve("@rlm/viewer/index.html"), new URL("../dist/viewer.html", import.meta.url));
