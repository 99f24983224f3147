import { callModel } from "../engine/call-model.js";
import { RLMInvalidArgumentError } from "../errors/invalid-argument-error.js";
import { epochMs } from "../events/epoch-ms.js";
import type { SubcallKind } from "../events/rlm-event.js";
import { MAX_EVENT_TOOL_ARG_CHARS } from "../limits.js";
import type { TokenUsage } from "../model/language-model.js";
import { truncateMiddle } from "../sandbox/output-buffer.js";
import { serializeError, toSerializedErrorMarker } from "../sandbox/protocol.js";
import type { SandboxCall } from "../sandbox/sandbox.js";
import type { RunOutcome, RunRequest, RunTree } from "./run-rlm.js";

export interface RouterRun {
  runId: string;
  depth: number;
  iteration: () => number;
  /** Starts a child run in the same tree (`rlm_query` below `maxDepth`). */
  runChild: (request: RunRequest) => Promise<RunOutcome>;
}

/**
 * Answers the host calls made by one run's model code: `llm_query` and `llm_query_batched` (through the shared
 * budget, concurrency limit and cache), `rlm_query` (a child run, or `llm_query` at `maxDepth`) and user tools.
 * Each call is reported as `subcall-start`/`subcall-end`.
 */
export class SubcallRouter {
  constructor(
    private readonly tree: RunTree,
    private readonly run: RouterRun,
  ) {}

  /**
   * Answers one call. The sandbox aborts `signal` when the cell ends, the sandbox goes, or the run is aborted. (Not
   * `async`: returning the answer's own promise saves each sub-call two turns of the microtask queue.)
   */
  handle(call: SandboxCall, signal: AbortSignal): Promise<unknown> {
    switch (call.kind) {
      case "llm_query":
        return this.llm(String(call.args[0]), signal);
      case "llm_query_batched": {
        const batchId = this.tree.nextId("batch");
        const prompts = call.args.map(String);
        return Promise.all(
          prompts.map((prompt, index) =>
            this.llm(prompt, signal, { id: batchId, index, size: prompts.length }).catch((error: unknown) =>
              toSerializedErrorMarker(serializeError(error)),
            ),
          ),
        );
      }
      case "rlm_query":
        return this.rlm(call, signal);
      case "tool":
        return this.tool(call.name, call.args);
      default: {
        const unknown: never = call.kind;
        throw new Error(`unknown call kind ${String(unknown)}`);
      }
    }
  }

  private async llm(
    prompt: string,
    signal: AbortSignal,
    batch?: { id: string; index: number; size: number },
  ): Promise<string> {
    const { settings, budget, cache } = this.tree;
    const modelId = settings.subModel.modelId;
    const result = await this.track("llm", modelId, prompt, batch, async (callId) => {
      const hit = cache?.get(modelId, prompt);
      if (hit) {
        budget.recordCacheHit(modelId);
        return { response: (await hit).text, cached: true };
      }
      const reply = callModel({
        model: settings.subModel,
        messages: [{ role: "user", content: prompt }],
        role: "sub",
        budget,
        semaphore: this.tree.semaphore,
        signal,
        maxRetries: settings.maxRetries,
        modelTimeoutMs: settings.modelTimeoutMs,
        onRetry: (retry) => this.tree.emit({ type: "model-retry", ...this.base(), callId, ...retry }),
      });
      cache?.set(modelId, prompt, reply);
      const { text, usage, requestStartedAt, requestEndedAt } = await reply;
      return { response: text, usage, cached: false, request: { requestStartedAt, requestEndedAt } };
    });
    return result.response;
  }

  private async rlm(call: SandboxCall, signal: AbortSignal): Promise<string> {
    const prompt = String(call.args[0]);
    const raw = call.args[1];
    const subContext: unknown = raw === undefined ? undefined : call.name === "json" ? JSON.parse(String(raw)) : raw;
    if (this.run.depth + 1 > this.tree.settings.maxDepth) {
      const text =
        subContext === undefined
          ? prompt
          : `${prompt}\n\n${typeof subContext === "string" ? subContext : JSON.stringify(subContext)}`;
      return this.llm(text, signal);
    }
    const result = await this.track("rlm", this.tree.settings.model.modelId, prompt, undefined, async (callId) => {
      const outcome = await this.run.runChild({
        query: prompt,
        context: subContext ?? prompt,
        depth: this.run.depth + 1,
        parentRunId: this.run.runId,
        parentCallId: callId,
      });
      // A child stopped by the shared budget has no answer; its parent's call fails the same way a sub-call would.
      if (outcome.stopReason !== "final" && outcome.stopReason !== "max-iterations")
        this.tree.budget.throwIfExhausted();
      return { response: outcome.answer, cached: false };
    });
    return result.response;
  }

  private async tool(name: string, args: unknown[]): Promise<unknown> {
    const fn = this.tree.settings.tools[name]?.execute;
    if (fn === undefined) throw new Error(`no tool named ${name}`);
    const result = await this.track("tool", name, describeToolArgs(args), undefined, async () => {
      const value = await fn(...(args as never[]));
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (error) {
        throw new RLMInvalidArgumentError({
          argument: `tools.${name}`,
          message: `returned a value that is not JSON-serialisable (${(error as Error).message}).`,
        });
      }
      return {
        response: json ?? "undefined",
        cached: false,
        // The value as JSON gives it (a string is its own copy).
        value: json === undefined || typeof value === "string" ? value : (JSON.parse(json) as unknown),
      };
    });
    return result.value;
  }

  /** Reports a sub-call's start and end around `work`, which returns the text answer (and the tool value). */
  private async track<
    T extends {
      response: string;
      cached: boolean;
      usage?: TokenUsage;
      value?: unknown;
      request?: { requestStartedAt: number; requestEndedAt: number };
    },
  >(
    kind: SubcallKind,
    target: string,
    prompt: string,
    batch: { id: string; index: number; size: number } | undefined,
    work: (callId: string) => Promise<T>,
  ): Promise<T> {
    const callId = this.tree.nextId("call");
    const started = performance.now();
    this.tree.emit({
      type: "subcall-start",
      ...this.base(),
      callId,
      iteration: this.run.iteration(),
      kind,
      target,
      prompt,
      ...(batch ? { batch } : {}),
    });
    try {
      const result = await work(callId);
      this.tree.emit({
        type: "subcall-end",
        ...this.base(),
        callId,
        kind,
        ok: true,
        response: result.response,
        ...(result.usage ? { usage: result.usage } : {}),
        ...(result.request ?? {}),
        cached: result.cached,
        durationMs: performance.now() - started,
      });
      return result;
    } catch (error) {
      this.tree.emit({
        type: "subcall-end",
        ...this.base(),
        callId,
        kind,
        ok: false,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        cached: false,
        durationMs: performance.now() - started,
      });
      throw error;
    }
  }

  private base() {
    return { runId: this.run.runId, depth: this.run.depth, timestamp: epochMs() };
  }
}

/**
 * A tool call's arguments as its event's `prompt`: their JSON, with any string longer than
 * `MAX_EVENT_TOOL_ARG_CHARS` cut in the middle (a tool given the whole context is not given a copy of it here).
 */
function describeToolArgs(args: unknown[]): string {
  return JSON.stringify(args, (_key, value: unknown) =>
    typeof value === "string" ? truncateMiddle(value, MAX_EVENT_TOOL_ARG_CHARS) : value,
  );
}
