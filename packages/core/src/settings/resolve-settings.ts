import { RLMInvalidArgumentError } from "../errors/invalid-argument-error.js";
import type { RLMEvent } from "../events/rlm-event.js";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_HOST_STRING_MIN_CHARS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_ITERATIONS,
  DEFAULT_MAX_LLM_CALLS,
  DEFAULT_MAX_OUTPUT_CHARS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_MODEL_TIMEOUT_MS,
  DEFAULT_STEP_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
} from "../limits.js";
import { isLanguageModel, type LanguageModel } from "../model/language-model.js";
import type { RLMSettings, RLMToolDefinition } from "./rlm-settings.js";

/** Settings with every default filled in and every value checked. */
export interface ResolvedSettings {
  model: LanguageModel;
  subModel: LanguageModel;
  maxIterations: number;
  maxDepth: number;
  maxLLMCalls: number;
  maxTokens: number;
  timeoutMs: number;
  concurrency: number;
  modelTimeoutMs: number;
  maxRetries: number;
  cache: "run" | "instance" | false;
  sandbox: {
    memoryLimitBytes: number;
    stepTimeoutMs: number;
    maxOutputChars: number;
    hostStringMinChars: number;
    hostStringKeys: string[];
    copyContextToWorker: boolean;
    debug: boolean;
  };
  tools: Record<string, RLMToolDefinition>;
  onEvent: ((event: RLMEvent) => void) | undefined;
}

/** Names model code already uses; tools may not take them. */
export const RESERVED_GLOBALS = [
  "context",
  "llm_query",
  "llm_query_batched",
  "rlm_query",
  "FINAL",
  "FINAL_VAR",
  "SHOW_VARS",
  "print",
  "console",
  "Text",
];

/** Every key `createRLM` accepts. Integrations use it to tell RLM settings from their framework's own. */
export const RLM_SETTING_KEYS: readonly (keyof RLMSettings)[] = [
  "model",
  "subModel",
  "maxIterations",
  "maxDepth",
  "maxLLMCalls",
  "maxTokens",
  "timeoutMs",
  "concurrency",
  "modelTimeoutMs",
  "maxRetries",
  "cache",
  "sandbox",
  "tools",
  "onEvent",
];
const SETTING_KEYS: readonly string[] = RLM_SETTING_KEYS;
const SANDBOX_KEYS = [
  "memoryLimitBytes",
  "stepTimeoutMs",
  "maxOutputChars",
  "hostStringMinChars",
  "hostStringKeys",
  "copyContextToWorker",
  "debug",
];
const MIN_MEMORY_LIMIT_BYTES = 8 * 1024 * 1024;

/** Checks `createRLM` settings and fills in defaults. Throws `RLMInvalidArgumentError` naming the bad field. */
export function resolveSettings(settings: RLMSettings): ResolvedSettings {
  if (settings === null || typeof settings !== "object") {
    throw new RLMInvalidArgumentError({
      argument: "settings",
      message: `expected an object with at least \`model\`, got ${describe(settings)}.`,
    });
  }
  rejectUnknownKeys(settings as unknown as Record<string, unknown>, SETTING_KEYS, "");
  const model = checkModel(settings.model, "model");
  const subModel = settings.subModel === undefined ? model : checkModel(settings.subModel, "subModel");
  const sandbox = settings.sandbox ?? {};
  if (sandbox === null || typeof sandbox !== "object") {
    throw new RLMInvalidArgumentError({
      argument: "sandbox",
      message: `expected an object, got ${describe(sandbox)}.`,
    });
  }
  rejectUnknownKeys(sandbox as Record<string, unknown>, SANDBOX_KEYS, "sandbox.");
  if (settings.onEvent !== undefined && typeof settings.onEvent !== "function") {
    throw new RLMInvalidArgumentError({
      argument: "onEvent",
      message: `expected a function (event) => void, got ${describe(settings.onEvent)}.`,
    });
  }
  const cache = settings.cache ?? "run";
  if (cache !== "run" && cache !== "instance" && cache !== false) {
    throw new RLMInvalidArgumentError({
      argument: "cache",
      message: `expected "run", "instance" or false, got ${describe(cache)}.`,
    });
  }
  return {
    model,
    subModel,
    maxIterations: integer(settings.maxIterations, "maxIterations", DEFAULT_MAX_ITERATIONS, 1),
    maxDepth: integer(settings.maxDepth, "maxDepth", DEFAULT_MAX_DEPTH, 0),
    maxLLMCalls: integer(settings.maxLLMCalls, "maxLLMCalls", DEFAULT_MAX_LLM_CALLS, 1),
    maxTokens: integer(settings.maxTokens, "maxTokens", DEFAULT_MAX_TOKENS, 1),
    timeoutMs: integer(settings.timeoutMs, "timeoutMs", DEFAULT_TIMEOUT_MS, 1),
    concurrency: integer(settings.concurrency, "concurrency", DEFAULT_CONCURRENCY, 1),
    modelTimeoutMs: integer(settings.modelTimeoutMs, "modelTimeoutMs", DEFAULT_MODEL_TIMEOUT_MS, 1),
    maxRetries: integer(settings.maxRetries, "maxRetries", DEFAULT_MAX_RETRIES, 0),
    cache,
    sandbox: {
      memoryLimitBytes: integer(
        sandbox.memoryLimitBytes,
        "sandbox.memoryLimitBytes",
        DEFAULT_MEMORY_LIMIT_BYTES,
        MIN_MEMORY_LIMIT_BYTES,
      ),
      stepTimeoutMs: integer(sandbox.stepTimeoutMs, "sandbox.stepTimeoutMs", DEFAULT_STEP_TIMEOUT_MS, 1),
      maxOutputChars: integer(sandbox.maxOutputChars, "sandbox.maxOutputChars", DEFAULT_MAX_OUTPUT_CHARS, 100),
      hostStringMinChars: integer(
        sandbox.hostStringMinChars,
        "sandbox.hostStringMinChars",
        DEFAULT_HOST_STRING_MIN_CHARS,
        1,
      ),
      hostStringKeys: stringList(sandbox.hostStringKeys, "sandbox.hostStringKeys"),
      copyContextToWorker: flag(sandbox.copyContextToWorker, "sandbox.copyContextToWorker"),
      debug: flag(sandbox.debug, "sandbox.debug"),
    },
    tools: checkTools(settings.tools),
    onEvent: settings.onEvent,
  };
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new RLMInvalidArgumentError({
      argument: field,
      message: `expected an array of strings (object keys), got ${describe(value)}.`,
    });
  }
  return value as string[];
}

function checkModel(value: unknown, field: string): LanguageModel {
  if (isLanguageModel(value)) return value;
  const hint =
    value !== null && typeof value === "object" && ("invoke" in value || "doGenerate" in value || "chat" in value)
      ? " This looks like a framework model: wrap it with the integration's adapter (fromLangChain, fromAISDK, fromLlamaIndex, fromADK)."
      : "";
  throw new RLMInvalidArgumentError({
    argument: field,
    message: `expected a LanguageModel ({ modelId: string, generate(request) => Promise<{ text, usage? }> }), got ${describe(value)}.${hint}`,
  });
}

function flag(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new RLMInvalidArgumentError({ argument: field, message: `expected true or false, got ${describe(value)}.` });
  }
  return value;
}

function integer(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" ||
    Number.isNaN(value) ||
    value < min ||
    (!Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)
  ) {
    throw new RLMInvalidArgumentError({
      argument: field,
      message: `expected a whole number >= ${min.toLocaleString("en-US")}${field === "maxDepth" || field === "maxRetries" ? "" : " (or Infinity)"}, got ${describe(value)}.`,
    });
  }
  if (
    value === Number.POSITIVE_INFINITY &&
    (field === "maxDepth" || field === "maxRetries" || field.startsWith("sandbox."))
  ) {
    throw new RLMInvalidArgumentError({ argument: field, message: "expected a finite whole number, got Infinity." });
  }
  return value;
}

function checkTools(tools: unknown): Record<string, RLMToolDefinition> {
  if (tools === undefined) return {};
  if (tools === null || typeof tools !== "object" || Array.isArray(tools)) {
    throw new RLMInvalidArgumentError({
      argument: "tools",
      message: `expected an object of functions { name: async (...args) => value } or { name: { description, execute } }, got ${describe(tools)}.`,
    });
  }
  const resolved: Record<string, RLMToolDefinition> = {};
  for (const [name, tool] of Object.entries(tools)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
      throw new RLMInvalidArgumentError({
        argument: `tools.${name}`,
        message: "tool names must be JavaScript identifiers (letters, digits, _ and $; not starting with a digit).",
      });
    }
    if (RESERVED_GLOBALS.includes(name)) {
      throw new RLMInvalidArgumentError({
        argument: `tools.${name}`,
        message: `"${name}" is part of the REPL's API; reserved names: ${RESERVED_GLOBALS.join(", ")}.`,
      });
    }
    if (typeof tool === "function") {
      resolved[name] = { execute: tool };
    } else if (tool !== null && typeof tool === "object" && typeof (tool as RLMToolDefinition).execute === "function") {
      const { description, execute } = tool as RLMToolDefinition;
      if (description !== undefined && typeof description !== "string") {
        throw new RLMInvalidArgumentError({
          argument: `tools.${name}.description`,
          message: `expected a string, got ${describe(description)}.`,
        });
      }
      resolved[name] = description === undefined ? { execute } : { description, execute };
    } else {
      throw new RLMInvalidArgumentError({
        argument: `tools.${name}`,
        message: `expected a function or { description?, execute }, got ${describe(tool)}.`,
      });
    }
  }
  return resolved;
}

function rejectUnknownKeys(object: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const lower = key.toLowerCase();
    const suggestion = known.find(
      (k) =>
        k.toLowerCase() === lower ||
        editDistance(k, key) <= 2 ||
        (key.length >= 4 && k.toLowerCase().startsWith(lower)),
    );
    throw new RLMInvalidArgumentError({
      argument: `${prefix}${key}`,
      message: `unknown setting.${suggestion ? ` Did you mean \`${prefix}${suggestion}\`?` : ""} Known settings: ${known.join(", ")}.`,
    });
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}

/** A short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "function":
      return "a function";
    case "undefined":
      return "undefined";
    case "symbol":
      return "a symbol";
    default:
      return `an object (${(value as { constructor?: { name?: string } }).constructor?.name ?? "Object"})`;
  }
}
