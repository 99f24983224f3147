#!/usr/bin/env node
import { runCLI } from "./run-cli.js";

const controller = new AbortController();
let interrupts = 0;
process.on("SIGINT", () => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  process.stderr.write("\nStopping (Ctrl-C again to quit at once)...\n");
  controller.abort(new Error("interrupted (SIGINT)"));
});
const code = await runCLI(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
process.exitCode = code;
