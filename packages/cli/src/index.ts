export { loadContext } from "./load-context.js";
export { type CLIOptions, parseCLIArgs, USAGE } from "./parse-cli-args.js";
export { type CLIEnvironment, runCLI } from "./run-cli.js";
export { CLIUsageError } from "./usage-error.js";
