import {
  BaseAgent,
  type BaseAgentConfig,
  type BaseLlm,
  createEvent,
  createEventActions,
  type Event,
  type InvocationContext,
} from "@google/adk";
import type { Part } from "@google/genai";
import {
  createRLM,
  describeEvent,
  isLanguageModel,
  type JSONValue,
  type LanguageModel,
  RLM_SETTING_KEYS,
  RLMInvalidArgumentError,
  type RLMResult,
  type RLMSettings,
} from "@rlm/core";
import { fromADK } from "./from-adk.js";

/** A model for the RLM: an ADK `BaseLlm`, a model name ADK resolves, or a `LanguageModel` of `@rlm/core`. */
export type RLMModelInput = BaseLlm | string | LanguageModel;

export interface RLMAgentConfig extends BaseAgentConfig, Omit<RLMSettings, "model" | "subModel" | "onEvent"> {
  model: RLMModelInput;
  subModel?: RLMModelInput;
  /** Session state key holding the context (any JSON: a string, documents...). Default `"rlm_context"`. */
  contextKey?: string;
  /** Artifacts to load as context documents `{ name, text }`, when the state key holds nothing. */
  contextArtifacts?: string[];
  /** Session state key holding the query; by default the query is the user content's text. */
  queryKey?: string;
  /** Session state key the answer is written to (in the final event's `stateDelta`). Default `"rlm_answer"`. */
  outputKey?: string;
}

/**
 * A Recursive Language Model as an ADK agent. The query is the user content's text (or `state[queryKey]`); the
 * context is, in order of precedence, `state[contextKey]`, the `contextArtifacts`, or the text of the session's
 * earlier events; it never goes into the root model's prompt. While it works it emits partial thought events (one
 * per iteration, code cell and sub-call, with the agent's branch); its **last** event carries the answer as text
 * and a `stateDelta` writing `outputKey`, so `SequentialAgent`, `ParallelAgent`, `Workflow` and `AgentTool` pick it
 * up like any agent's output. `ctx.abortSignal` cancels the run.
 */
export class RLMAgent extends BaseAgent<RLMAgentConfig> {
  constructor(config: RLMAgentConfig) {
    super(config);
  }

  get outputKey(): string {
    return this.config.outputKey ?? "rlm_answer";
  }

  protected async *runAsyncImpl(ctx: InvocationContext): AsyncGenerator<Event, void, void> {
    const query = this.queryOf(ctx);
    const context = await this.contextOf(ctx);
    const rlm = createRLM(this.rlmSettings());
    let result: RLMResult | undefined;
    for await (const event of rlm.stream({ query, context, ...(ctx.abortSignal ? { signal: ctx.abortSignal } : {}) })) {
      if (event.type === "run-finish" && event.result) {
        result = event.result;
        continue;
      }
      const text = describeEvent(event);
      if (text === undefined) continue;
      yield createEvent({
        invocationId: ctx.invocationId,
        author: this.name,
        ...(ctx.branch ? { branch: ctx.branch } : {}),
        partial: true,
        content: { role: "model", parts: [{ text, thought: true }] },
        customMetadata: { rlm: { type: event.type, runId: event.runId, depth: event.depth } },
      });
    }
    if (result === undefined) throw new Error("RLMAgent: the run ended without a result");
    yield createEvent({
      invocationId: ctx.invocationId,
      author: this.name,
      ...(ctx.branch ? { branch: ctx.branch } : {}),
      content: { role: "model", parts: [{ text: result.answer }] },
      actions: createEventActions({ stateDelta: { [this.outputKey]: result.answer } }),
      customMetadata: {
        rlm: {
          stopReason: result.stopReason,
          iterations: result.iterations,
          usage: JSON.parse(JSON.stringify(result.usage)),
        },
      },
    });
  }

  protected async *runLiveImpl(_ctx: InvocationContext): AsyncGenerator<Event, void, void> {
    yield* [];
    throw new Error("RLMAgent does not support live (audio/video) mode; run it with runAsync.");
  }

  private rlmSettings(): RLMSettings {
    const { model, subModel, contextKey: _c, contextArtifacts: _a, queryKey: _q, outputKey: _o, ...rest } = this.config;
    // Only the RLM's settings: BaseAgentConfig's fields (name, subAgents, callbacks...) are the agent's.
    const settings = Object.fromEntries(Object.entries(rest).filter(([key]) => RLM_KEYS.has(key)));
    return {
      ...(settings as Omit<RLMSettings, "model">),
      model: toModel(model),
      ...(subModel ? { subModel: toModel(subModel) } : {}),
    };
  }

  private queryOf(ctx: InvocationContext): string {
    const fromState = this.config.queryKey ? ctx.session.state[this.config.queryKey] : undefined;
    if (typeof fromState === "string" && fromState.trim()) return fromState;
    const text = (ctx.userContent?.parts ?? [])
      .map((p) => p.text ?? "")
      .join("")
      .trim();
    if (!text) {
      throw new RLMInvalidArgumentError({
        argument: this.config.queryKey ? `state.${this.config.queryKey}` : "userContent",
        message: `RLMAgent "${this.name}" has no query: the user content has no text${this.config.queryKey ? ` and state["${this.config.queryKey}"] is empty` : ""}.`,
      });
    }
    return text;
  }

  private async contextOf(ctx: InvocationContext): Promise<JSONValue> {
    const key = this.config.contextKey ?? "rlm_context";
    const fromState = ctx.session.state[key];
    if (fromState !== undefined && fromState !== null) return fromState as JSONValue;
    if (this.config.contextArtifacts?.length && ctx.artifactService) {
      const documents: Array<{ name: string; text: string }> = [];
      for (const name of this.config.contextArtifacts) {
        const part = await ctx.artifactService.loadArtifact({ filename: name });
        const text = part ? partText(part) : undefined;
        if (text !== undefined) documents.push({ name, text });
      }
      return documents.length === 1 ? (documents[0] as { text: string }).text : documents;
    }
    const earlier = ctx.session.events
      .filter((e) => e.invocationId !== ctx.invocationId && !e.partial && e.author !== this.name)
      .map((e) => ({
        author: e.author ?? "",
        text: (e.content?.parts ?? [])
          .filter((p) => p.text && !p.thought)
          .map((p) => p.text)
          .join(""),
      }))
      .filter((e) => e.text);
    return earlier;
  }
}

/** The RLM's own settings; everything else in the config is the agent's. */
const RLM_KEYS = new Set<string>(
  RLM_SETTING_KEYS.filter((key) => key !== "model" && key !== "subModel" && key !== "onEvent"),
);

function toModel(model: RLMModelInput): LanguageModel {
  return isLanguageModel(model) ? model : fromADK(model);
}

function partText(part: Part): string | undefined {
  if (typeof part.text === "string") return part.text;
  const data = part.inlineData;
  if (data?.data && (data.mimeType ?? "").match(/^text\/|json|xml|csv/))
    return Buffer.from(data.data, "base64").toString("utf8");
  return undefined;
}
