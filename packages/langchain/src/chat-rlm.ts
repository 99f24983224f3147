import type { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { CallbackManager, type CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import {
  type ConversationMessage,
  type ConversationSplitOptions,
  conversationToTask,
  createRLM,
  DEFAULT_CONVERSATION_SPLIT,
  type JSONValue,
  RLMInvalidArgumentError,
  type RLMResult,
  type RLMToolDefinition,
} from "@rlm/core";
import { eventPayload, type RLMLangChainSettings, toRLMSettings } from "./to-rlm-settings.js";

/** Call options of `ChatRLM`: `context` overrides what the messages would give (see `ChatRLM`). */
export interface ChatRLMCallOptions extends BaseChatModelCallOptions {
  /** The data to reason over, instead of the one taken from the messages. */
  context?: JSONValue;
  /** The question, instead of the last human message. */
  query?: string;
}

/** `ChatRLM` settings: the RLM's (`model`, `subModel?`, budgets, sandbox, tools...) and LangChain's chat-model params. */
export interface ChatRLMFields
  extends RLMLangChainSettings,
    Omit<BaseChatModelParams, "maxRetries" | "callbacks" | "cache"> {
  /** How messages are split into query and context. */
  promptSplit?: Partial<ConversationSplitOptions>;
  callbacks?: BaseChatModelParams["callbacks"];
}

/**
 * A Recursive Language Model as a LangChain chat model: a drop-in for any `BaseChatModel` in a chain
 * (`prompt.pipe(new ChatRLM({ model })).pipe(new StringOutputParser())`), with `invoke`, `batch` and `stream`.
 *
 * **Messages to task.** The last human message is the query; system messages of up to 2,000 characters are
 * instructions in front of it; everything else (longer system messages, earlier turns, a human message over 8,000
 * characters) becomes the RLM's `context`, never the root model's prompt. So a prompt template that puts a
 * 1M-character document into a system message runs with bounded root requests. The `context` call option
 * overrides (`chatRLM.invoke(messages, { context: docs })`).
 *
 * The RLM's steps are LangChain custom events named `rlm:<event type>` (`on_custom_event` in `streamEvents`);
 * the inner models' runs nest under the `ChatRLM` run. The answer's `usage_metadata` sums every inner call;
 * `response_metadata.rlm` has the stop reason, iterations and the trajectory.
 */
export class ChatRLM extends BaseChatModel<ChatRLMCallOptions> {
  static override lc_name(): string {
    return "ChatRLM";
  }

  override lc_namespace = ["rlm", "langchain", "chat_models"];
  private readonly settings: RLMLangChainSettings;
  private readonly split: ConversationSplitOptions;

  constructor(fields: ChatRLMFields) {
    // LangChain's own retries would re-run the whole RLM; the engine retries each model call instead.
    super({ ...pickChatParams(fields), maxRetries: 0 });
    const { promptSplit, ...rest } = fields;
    this.settings = pickRLMSettings(rest);
    this.split = { ...DEFAULT_CONVERSATION_SPLIT, ...promptSplit };
  }

  override get callKeys(): string[] {
    return [...super.callKeys, "context", "query"];
  }

  _llmType(): string {
    return "rlm";
  }

  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    const result = await this.runRLM(messages, options, runManager);
    const message = new AIMessage({
      content: result.answer,
      usage_metadata: usageMetadata(result),
      response_metadata: responseMetadata(result),
    });
    return { generations: [{ text: result.answer, message }], llmOutput: { rlm: responseMetadata(result).rlm } };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    // The steps stream as custom events while the RLM works; the answer streams when it is known.
    const result = await this.runRLM(messages, options, runManager);
    const pieces = result.answer.match(/[\s\S]{1,64}/g) ?? [""];
    for (const [i, piece] of pieces.entries()) {
      const last = i === pieces.length - 1;
      yield new ChatGenerationChunk({
        text: piece,
        message: new AIMessageChunk({
          content: piece,
          ...(last ? { usage_metadata: usageMetadata(result), response_metadata: responseMetadata(result) } : {}),
        }),
      });
      await runManager?.handleLLMNewToken(piece);
    }
  }

  /**
   * LangChain tools become host functions the RLM's code can call (`await search({ query })`); descriptions go to
   * the root model's prompt. The RLM runs them itself and answers, so an agent built on `ChatRLM` sees a final
   * answer, not tool calls. Only executable tools (`tool()`, `StructuredTool`) can be bound.
   */
  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<ChatRLMCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, ChatRLMCallOptions> {
    const bound: Record<string, RLMToolDefinition> = { ...toToolDefinitions(this.settings.tools) };
    for (const tool of tools) {
      const t = tool as { name?: unknown; description?: unknown; invoke?: unknown };
      if (typeof t.name !== "string" || typeof t.invoke !== "function") {
        throw new RLMInvalidArgumentError({
          argument: "tools",
          message: `ChatRLM.bindTools got ${typeof t.name === "string" ? `"${t.name}", ` : "a tool "}which is not executable; only LangChain tools with invoke() (tool(), StructuredTool) can be bound, because the RLM calls them from its code.`,
        });
      }
      const invoke = (t.invoke as (input: unknown) => Promise<unknown>).bind(tool);
      const name = t.name.replace(/[^\w$]/g, "_");
      bound[name] = {
        ...(typeof t.description === "string" ? { description: t.description } : {}),
        execute: async (input) => {
          const output = await invoke(input ?? {});
          const content = (output as { content?: unknown } | null)?.content;
          return content !== undefined ? content : output;
        },
      };
    }
    const next = new ChatRLM({ ...this.settings, tools: bound, promptSplit: this.split });
    return kwargs ? next.withConfig(kwargs as Partial<ChatRLMCallOptions>) : next;
  }

  private async runRLM(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<RLMResult> {
    const task = conversationToTask(
      messages.map(toConversationMessage),
      {
        ...(options.context !== undefined ? { context: options.context } : {}),
        ...(options.query ? { query: options.query } : {}),
      },
      this.split,
    );
    const pending: Promise<unknown>[] = [];
    const rlm = createRLM(
      toRLMSettings(this.settings, runManager ? childOf(runManager) : undefined, (event) => {
        if (runManager) pending.push(runManager.handleCustomEvent(`rlm:${event.type}`, eventPayload(event)));
      }),
    );
    try {
      return await rlm.run({ ...task, ...(options.signal ? { signal: options.signal } : {}) });
    } finally {
      await Promise.allSettled(pending);
    }
  }
}

/** A child callback manager of an LLM run, so inner model runs nest under it (LangChain offers `getChild` only on chain runs). */
function childOf(run: CallbackManagerForLLMRun): CallbackManager {
  const inherited = run as unknown as {
    inheritableHandlers: BaseCallbackHandler[];
    inheritableTags: string[];
    inheritableMetadata: Record<string, unknown>;
  };
  const manager = new CallbackManager(run.runId);
  manager.setHandlers(inherited.inheritableHandlers);
  manager.addTags(inherited.inheritableTags);
  manager.addMetadata(inherited.inheritableMetadata);
  return manager;
}

export function toConversationMessage(message: BaseMessage): ConversationMessage {
  const type = message.getType();
  const role = type === "system" ? "system" : type === "ai" ? "assistant" : type === "tool" ? "tool" : "user";
  return { role, parts: [{ text: message.text }] };
}

export function usageMetadata(result: RLMResult) {
  const { inputTokens, outputTokens } = result.usage;
  return { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
}

export function responseMetadata(result: RLMResult) {
  return {
    model_provider: "rlm",
    rlm: {
      stopReason: result.stopReason,
      iterations: result.iterations,
      usage: result.usage,
      durationMs: result.durationMs,
      trajectory: result.trajectory,
    },
  };
}

function toToolDefinitions(tools: RLMLangChainSettings["tools"]): Record<string, RLMToolDefinition> {
  const out: Record<string, RLMToolDefinition> = {};
  for (const [name, tool] of Object.entries(tools ?? {}))
    out[name] = typeof tool === "function" ? { execute: tool } : tool;
  return out;
}

/** LangChain's own chat-model params; everything else is an RLM setting. (`cache` is the RLM's sub-call cache.) */
const CHAT_PARAM_KEYS = [
  "callbacks",
  "tags",
  "metadata",
  "verbose",
  "maxConcurrency",
  "disableStreaming",
  "outputVersion",
] as const;

function pickChatParams(fields: ChatRLMFields): BaseChatModelParams {
  const params: Record<string, unknown> = {};
  const source = fields as unknown as Record<string, unknown>;
  for (const key of CHAT_PARAM_KEYS) if (source[key] !== undefined) params[key] = source[key];
  return params as BaseChatModelParams;
}

function pickRLMSettings(fields: Omit<ChatRLMFields, "promptSplit">): RLMLangChainSettings {
  const settings: Record<string, unknown> = { ...fields };
  for (const key of CHAT_PARAM_KEYS) delete settings[key];
  return settings as unknown as RLMLangChainSettings;
}
