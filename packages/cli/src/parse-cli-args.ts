import { parseArgs } from "node:util";
import type { RLMSettings } from "@rlm/core";
import { CLIUsageError } from "./usage-error.js";

export const USAGE = `Usage:
  rlm ask "<question>" --context <file|dir|glob|-> [options]
  rlm demo [options]          ask questions about a generated 1M-token document set
  rlm view <trajectory.json>  see a run as a call tree and a timeline, in your browser [--port <n>]
  rlm --help | --version

Models (an OpenAI-compatible server; without one, the offline demo model runs):
  OPENAI_API_KEY, OPENAI_BASE_URL   environment, as usual (Ollama, vLLM, llama.cpp: set OPENAI_BASE_URL)
  --model <name>                    root model (env RLM_MODEL; default gpt-5-mini)
  --sub-model <name>                model for llm_query (env RLM_SUB_MODEL; default: the root model)
  --base-url <url>                  overrides OPENAI_BASE_URL
  --demo                            use the offline demo model (not an LLM) even if a server is configured

Budgets:
  --max-iterations <n>  --max-depth <n>  --max-llm-calls <n>  --max-tokens <n>
  --timeout-ms <n>  --concurrency <n>  --step-timeout-ms <n>  --memory-limit-bytes <n>  --max-output-chars <n>

Output:
  --json                print the result as JSON (answer, stopReason, usage, ...) on stdout
  --trajectory <file>   write the full trajectory as JSON (also on Ctrl-C and on errors)
  --quiet               no progress view
  --size-chars <n>      (demo) size of the generated document set; default 4,400,000 (about 1.1M tokens)`;

export interface CLIOptions {
  command: "ask" | "demo" | "view" | "help" | "version";
  /** `view`: the trajectory file, and the port to serve on (0: any free port). */
  file?: string;
  port?: number;
  query?: string;
  context?: string;
  model?: string;
  subModel?: string;
  baseURL?: string;
  demo: boolean;
  json: boolean;
  quiet: boolean;
  trajectory?: string;
  sizeChars?: number;
  settings: Omit<RLMSettings, "model" | "subModel">;
}

const NUMERIC: Record<string, string> = {
  "max-iterations": "maxIterations",
  "max-depth": "maxDepth",
  "max-llm-calls": "maxLLMCalls",
  "max-tokens": "maxTokens",
  "timeout-ms": "timeoutMs",
  concurrency: "concurrency",
  "step-timeout-ms": "sandbox.stepTimeoutMs",
  "memory-limit-bytes": "sandbox.memoryLimitBytes",
  "max-output-chars": "sandbox.maxOutputChars",
  "size-chars": "sizeChars",
};

/** Parses `argv` (without node and the script). Throws `CLIUsageError` for anything it cannot accept. */
export function parseCLIArgs(argv: string[]): CLIOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CLIUsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, "."));
  }
  const { values, positionals } = parsed;
  if (values.version) return base("version", values);
  if (values.help) return base("help", values);
  const [command, ...rest] = positionals;
  if (command === undefined) return base("help", values);
  if (command !== "ask" && command !== "demo" && command !== "view") {
    throw new CLIUsageError(`unknown command "${command}"; expected "ask", "demo" or "view".`);
  }
  const options = base(command, values);
  if (command === "ask") {
    if (rest.length !== 1 || !rest[0]?.trim())
      throw new CLIUsageError('rlm ask takes one question, in quotes: rlm ask "<question>" --context <path>.');
    if (values.context === undefined)
      throw new CLIUsageError("rlm ask needs --context <file|dir|glob|-> (use - for standard input).");
    options.query = rest[0];
    options.context = values.context;
  } else if (command === "view") {
    if (rest.length !== 1) throw new CLIUsageError("rlm view takes one trajectory file: rlm view run.json.");
    options.file = rest[0] as string;
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new CLIUsageError(`--port expects a port number, got "${String(values.port)}".`);
    options.port = port;
  } else if (rest.length > 0) {
    throw new CLIUsageError(`rlm demo takes no arguments, got "${rest.join(" ")}".`);
  }
  return options;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      context: { type: "string", short: "c" },
      model: { type: "string" },
      "sub-model": { type: "string" },
      "base-url": { type: "string" },
      demo: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", short: "q", default: false },
      trajectory: { type: "string" },
      port: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
      ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: "string" as const }])),
    },
  });
}

function base(command: CLIOptions["command"], values: ReturnType<typeof parse>["values"]): CLIOptions {
  const settings: Record<string, unknown> = {};
  const sandbox: Record<string, unknown> = {};
  let sizeChars: number | undefined;
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = (values as Record<string, unknown>)[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n))
      throw new CLIUsageError(`--${flag} expects a whole number, got "${String(raw)}".`);
    if (key === "sizeChars") sizeChars = n;
    else if (key.startsWith("sandbox.")) sandbox[key.slice(8)] = n;
    else settings[key] = n;
  }
  if (Object.keys(sandbox).length > 0) settings.sandbox = sandbox;
  const opt = (v: unknown) => (typeof v === "string" ? v : undefined);
  const options: CLIOptions = {
    command,
    demo: values.demo === true,
    json: values.json === true,
    quiet: values.quiet === true,
    settings: settings as CLIOptions["settings"],
  };
  const model = opt(values.model);
  const subModel = opt(values["sub-model"]);
  const baseURL = opt(values["base-url"]);
  const trajectory = opt(values.trajectory);
  if (model) options.model = model;
  if (subModel) options.subModel = subModel;
  if (baseURL) options.baseURL = baseURL;
  if (trajectory) options.trajectory = trajectory;
  if (sizeChars !== undefined) options.sizeChars = sizeChars;
  return options;
}
