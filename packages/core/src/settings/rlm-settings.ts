import type { RLMEvent } from "../events/rlm-event.js";
import type { LanguageModel } from "../model/language-model.js";

/** JSON data: what `context`, tool arguments and tool results may be. */
export type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };

/**
 * A host function model code can call as `await name(...args)`. Arguments arrive as JSON values; the result must
 * be JSON-serialisable. A thrown error becomes an error in the sandbox.
 */
export type RLMTool = {
  // Method syntax keeps parameters bivariant, so `(city: string) => ...` is accepted.
  bivarianceHack(...args: JSONValue[]): unknown;
}["bivarianceHack"];

/** A tool with a description for the root model's prompt. */
export interface RLMToolDefinition {
  description?: string;
  execute: RLMTool;
}

/** Limits of each sandbox (one per run, child runs included). */
export interface RLMSandboxSettings {
  /** QuickJS heap limit. Default 256 MiB. Large context strings are held outside it. */
  memoryLimitBytes?: number;
  /** CPU time a code cell may spend running JavaScript; awaiting sub-calls does not count. Default 30 s. */
  stepTimeoutMs?: number;
  /** Output characters of a cell shown to the model, head and tail kept. Default 10,000. */
  maxOutputChars?: number;
  /** Strings in `context` at least this long stay in host memory as `Text` objects. Default 100,000. */
  hostStringMinChars?: number;
  /**
   * Strings under these object keys are `Text` objects whatever their length (e.g. `["text"]` for an array of
   * documents), so reads of them are counted in `result.contextAccess`. Default none.
   */
  hostStringKeys?: string[];
  /**
   * Copy the context into the sandbox's worker thread, so `Text` methods (regex searches over a large context) run
   * there, in parallel with your code, instead of on the thread that called `run`. Costs one copy of the context in
   * memory and ~1 ms per MB to start. Default false: large strings stay where they are, zero-copy, and each `Text`
   * method runs on the calling thread (a regex is stopped when the cell's `stepTimeoutMs` runs out).
   */
  copyContextToWorker?: boolean;
  /** Run QuickJS's debug build (slower), which reports leaked handles. For tests of the engine itself. */
  debug?: boolean;
}

export interface RLMSettings {
  /** The root model: it writes the code. */
  model: LanguageModel;
  /** The model behind `llm_query`. Defaults to `model`. */
  subModel?: LanguageModel;
  /** Root-model turns across the whole run tree. Default 20. */
  maxIterations?: number;
  /** Depth `rlm_query` may recurse to (root = 0); at the limit it falls back to `llm_query`. Default 1. */
  maxDepth?: number;
  /** Model requests across the run tree, retries included. Default 1,000. */
  maxLLMCalls?: number;
  /** Input plus output tokens across the run tree. Default 20,000,000. */
  maxTokens?: number;
  /** Wall-clock time of the whole run tree. Default 30 minutes. */
  timeoutMs?: number;
  /** Model requests in flight at once across the run tree. Default 8. */
  concurrency?: number;
  /** Time one model request may take before it is aborted and retried. Default 120 s. */
  modelTimeoutMs?: number;
  /** Retries of a transient model error (429, 5xx, network, timeout). Default 2. */
  maxRetries?: number;
  /**
   * Sub-call cache (same model and prompt): `"run"` (default) shares answers within one run tree, `"instance"`
   * across runs of this `createRLM` instance, `false` turns it off. Hits show in `usage.cacheHits`.
   */
  cache?: "run" | "instance" | false;
  sandbox?: RLMSandboxSettings;
  /**
   * Host functions callable from model code as `await name(...args)`: a function, or `{ description, execute }`
   * so the root model is told what it does. Names must be identifiers and not clash with the REPL's API.
   */
  tools?: Record<string, RLMTool | RLMToolDefinition>;
  /** Receives every event of every run in the tree, synchronously, in order. */
  onEvent?: (event: RLMEvent) => void;
}

/** What a run is asked: a query and the data it is about. */
export interface RLMRunInput {
  /** The question or task. Must not be empty. */
  query: string;
  /** The data: a string, an array (e.g. documents), or a plain object. Defaults to an empty string. */
  context?: JSONValue;
  /** Aborts the run and every model request in flight. */
  signal?: AbortSignal;
}
