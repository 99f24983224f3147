import {
  APICallError,
  type JSONObject,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4Content,
  type LanguageModelV4FinishReason,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4StreamResult,
  type LanguageModelV4Usage,
  type SharedV4Warning,
} from "@ai-sdk/provider";
import {
  type ConversationSplitOptions,
  createRLM,
  DEFAULT_CONVERSATION_SPLIT,
  describeEvent,
  isLanguageModel,
  type LanguageModel,
  type RLM,
  type RLMEvent,
  RLMModelError,
  type RLMResult,
  type RLMSettings,
  type StopReason,
} from "@rlm/core";
import type { LanguageModel as AISDKLanguageModel } from "ai";
import { fromAISDK } from "./from-ai-sdk.js";
import { promptToTask, type RLMTask } from "./prompt-to-task.js";

/** A model for the RLM: an AI SDK language model (or gateway id), or a `LanguageModel` of `@rlm/core`. */
export type RLMModelInput = AISDKLanguageModel | LanguageModel;

/** Settings of an RLM provider or model: the models, every `@rlm/core` setting, and how prompts are split. */
export interface RLMProviderSettings extends Omit<RLMSettings, "model" | "subModel"> {
  model: RLMModelInput;
  subModel?: RLMModelInput;
  /** How the prompt is split into query and context (see `promptToTask`). */
  promptSplit?: Partial<ConversationSplitOptions>;
  /** Put the whole trajectory in `providerMetadata.rlm.trajectory`. Default true. */
  includeTrajectory?: boolean;
}

/** Turns a model setting into the core's interface. */
export function toCoreModel(model: RLMModelInput): LanguageModel {
  return isLanguageModel(model) ? model : fromAISDK(model);
}

const IGNORED_SETTINGS = [
  "temperature",
  "topP",
  "topK",
  "maxOutputTokens",
  "stopSequences",
  "presencePenalty",
  "frequencyPenalty",
  "seed",
] as const;

/**
 * A Recursive Language Model as an AI SDK `LanguageModelV4`: `generateText`, `streamText` and structured output
 * run an RLM. The prompt becomes query and context by the rule of `promptToTask`; the RLM's steps come back as
 * reasoning, its answer as text, its trajectory in `providerMetadata.rlm`.
 */
export class RLMLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = "v4" as const;
  readonly provider = "rlm";
  readonly supportedUrls: Record<string, RegExp[]> = {};
  private readonly rlm: RLM;
  private readonly split: ConversationSplitOptions;

  constructor(
    readonly modelId: string,
    private readonly settings: RLMProviderSettings,
  ) {
    const { model, subModel, promptSplit, includeTrajectory: _include, ...core } = settings;
    this.rlm = createRLM({
      ...core,
      model: toCoreModel(model),
      ...(subModel ? { subModel: toCoreModel(subModel) } : {}),
    });
    this.split = { ...DEFAULT_CONVERSATION_SPLIT, ...promptSplit };
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { task, warnings } = this.prepare(options);
    const steps: string[] = [];
    const result = await this.run(task, options.abortSignal, (event) => {
      const step = describeEvent(event);
      if (step) steps.push(step);
    });
    const content: LanguageModelV4Content[] = [];
    if (steps.length > 0) content.push({ type: "reasoning", text: steps.join("\n") });
    content.push({ type: "text", text: result.answer });
    return {
      content,
      finishReason: finishReason(result.stopReason),
      usage: usage(result),
      providerMetadata: { rlm: this.metadata(result) },
      response: { modelId: this.modelId, timestamp: new Date() },
      warnings,
    };
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const { task, warnings } = this.prepare(options);
    let controller!: ReadableStreamDefaultController<LanguageModelV4StreamPart>;
    // Cancelling the stream aborts the run, as the caller's abortSignal does.
    const cancelled = new AbortController();
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      start: (c) => {
        controller = c;
      },
      cancel: (reason) => cancelled.abort(reason),
    });
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, cancelled.signal]) : cancelled.signal;
    controller.enqueue({ type: "stream-start", warnings });
    controller.enqueue({ type: "response-metadata", modelId: this.modelId, timestamp: new Date() });
    let reasoningId = 0;
    this.run(task, signal, (event) => {
      const step = describeEvent(event);
      if (!step || cancelled.signal.aborted) return;
      const id = `step-${++reasoningId}`;
      controller.enqueue({ type: "reasoning-start", id });
      controller.enqueue({ type: "reasoning-delta", id, delta: `${step}\n` });
      controller.enqueue({ type: "reasoning-end", id });
    }).then(
      (result) => {
        if (cancelled.signal.aborted) return;
        controller.enqueue({ type: "text-start", id: "answer" });
        controller.enqueue({ type: "text-delta", id: "answer", delta: result.answer });
        controller.enqueue({ type: "text-end", id: "answer" });
        controller.enqueue({
          type: "finish",
          finishReason: finishReason(result.stopReason),
          usage: usage(result),
          providerMetadata: { rlm: this.metadata(result) },
        });
        controller.close();
      },
      (error: unknown) => {
        if (cancelled.signal.aborted) return;
        controller.enqueue({ type: "error", error });
        controller.close();
      },
    );
    return { stream };
  }

  private prepare(options: LanguageModelV4CallOptions): { task: RLMTask; warnings: SharedV4Warning[] } {
    const warnings: SharedV4Warning[] = [];
    for (const setting of IGNORED_SETTINGS) {
      if (options[setting] !== undefined) {
        warnings.push({
          type: "unsupported",
          feature: setting,
          details: "an RLM runs many model calls; set it on the inner models instead",
        });
      }
    }
    if (options.tools?.length) {
      warnings.push({
        type: "unsupported",
        feature: "tools",
        details: "pass host functions as the `tools` setting of the RLM; they are called from its code",
      });
    }
    const rlmOptions = options.providerOptions?.rlm as { context?: unknown; query?: unknown } | undefined;
    const task = promptToTask(options.prompt, rlmOptions, this.split);
    if (options.responseFormat?.type === "json") {
      const schema = options.responseFormat.schema
        ? `\nThe value must match this JSON schema:\n${JSON.stringify(options.responseFormat.schema)}`
        : "";
      task.query += `\n\nAnswer with FINAL(value), where value is a JSON value (an object or array, not a string).${schema}`;
    }
    return { task, warnings };
  }

  private async run(
    task: RLMTask,
    signal: AbortSignal | undefined,
    onEvent: (event: RLMEvent) => void,
  ): Promise<RLMResult> {
    let result: RLMResult | undefined;
    try {
      for await (const event of this.rlm.stream({ ...task, ...(signal ? { signal } : {}) })) {
        onEvent(event);
        if (event.type === "run-finish" && event.result) result = event.result;
      }
    } catch (error) {
      // An inner AI SDK model's failure surfaces as the AI SDK's own error (APICallError, ...).
      if (RLMModelError.isInstance(error) && APICallError.isInstance(error.cause)) throw error.cause;
      throw error;
    }
    if (result === undefined) throw new Error("the RLM ended without a result");
    if (result.value !== undefined && typeof result.value !== "string") result.answer = JSON.stringify(result.value);
    return result;
  }

  /** `providerMetadata.rlm`: stop reason, iterations, usage by model, and (unless turned off) the trajectory. */
  private metadata(result: RLMResult): JSONObject {
    const metadata = {
      stopReason: result.stopReason,
      iterations: result.iterations,
      usage: result.usage,
      durationMs: result.durationMs,
      ...(this.settings.includeTrajectory === false ? {} : { trajectory: result.trajectory }),
    };
    return JSON.parse(JSON.stringify(metadata)) as JSONObject;
  }
}

function finishReason(stopReason: StopReason): LanguageModelV4FinishReason {
  switch (stopReason) {
    case "final":
      return { unified: "stop", raw: stopReason };
    case "max-tokens":
      return { unified: "length", raw: stopReason };
    case "max-iterations":
    case "max-llm-calls":
    case "timeout":
      return { unified: "other", raw: stopReason };
    default: {
      const unknown: never = stopReason;
      return { unified: "other", raw: String(unknown) };
    }
  }
}

function usage(result: RLMResult): LanguageModelV4Usage {
  const { inputTokens, outputTokens } = result.usage;
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: undefined },
  };
}
