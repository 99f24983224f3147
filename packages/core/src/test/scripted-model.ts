import type {
  ChatMessage,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  TokenUsage,
} from "../model/language-model.js";

/** One scripted reply: text, a full result, an error to throw, or a function of the request. */
export type ScriptedReply =
  | string
  | GenerateResult
  | Error
  | ((request: ScriptedRequest) => string | GenerateResult | Promise<string | GenerateResult>);

export interface ScriptedRequest {
  messages: ChatMessage[];
  /** The last message's content: for a sub-call, the prompt. */
  prompt: string;
  /** 0-based index of this call on this model. */
  index: number;
  signal?: AbortSignal;
}

/** What the scripted model saw, with when each call started and ended (`performance.now()` milliseconds). */
export interface ScriptedCall {
  messages: ChatMessage[];
  prompt: string;
  startedAt: number;
  endedAt?: number;
  /** True when the call's signal fired before it finished. */
  aborted: boolean;
  signal?: AbortSignal;
}

export interface ScriptedModelOptions {
  modelId?: string;
  /**
   * Replies in order (the last one repeats when the list runs out), or a function that answers every call.
   * An `Error` is thrown instead of answered.
   */
  replies: ScriptedReply[] | ((request: ScriptedRequest) => string | GenerateResult | Promise<string | GenerateResult>);
  /** Delay before each reply, in milliseconds (or a function of the request). Honors the abort signal. */
  latencyMs?: number | ((request: ScriptedRequest) => number);
  /** Usage to report when a reply gives none. Omit to report none (the engine then estimates). */
  usage?: TokenUsage;
}

/** A deterministic {@link LanguageModel} for tests: scripted replies, injectable latency, recorded calls. */
export interface ScriptedModel extends LanguageModel {
  readonly calls: ScriptedCall[];
}

/**
 * Creates a scripted model for tests and examples. It is not a language model: it returns what it is told to.
 *
 * @example
 * const model = createScriptedModel({ replies: ["```js\nFINAL(context.length)\n```"] });
 */
export function createScriptedModel(options: ScriptedModelOptions): ScriptedModel {
  const calls: ScriptedCall[] = [];
  let index = 0;
  return {
    modelId: options.modelId ?? "scripted",
    calls,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const messages = request.messages.map((m) => ({ ...m }));
      const scripted: ScriptedRequest = {
        messages,
        prompt: messages[messages.length - 1]?.content ?? "",
        index: index++,
        ...(request.signal ? { signal: request.signal } : {}),
      };
      const call: ScriptedCall = {
        messages,
        prompt: scripted.prompt,
        startedAt: performance.now(),
        aborted: false,
        ...(request.signal ? { signal: request.signal } : {}),
      };
      calls.push(call);
      try {
        const latency =
          typeof options.latencyMs === "function" ? options.latencyMs(scripted) : (options.latencyMs ?? 0);
        if (latency > 0) await delay(latency, request.signal);
        request.signal?.throwIfAborted();
        const reply = pick(options.replies, scripted);
        if (reply instanceof Error) throw reply;
        const value = typeof reply === "function" ? await reply(scripted) : reply;
        const result: GenerateResult = typeof value === "string" ? { text: value } : value;
        return result.usage || !options.usage ? result : { ...result, usage: options.usage };
      } catch (error) {
        if (request.signal?.aborted) call.aborted = true;
        throw error;
      } finally {
        call.endedAt = performance.now();
      }
    },
  };
}

function pick(replies: ScriptedModelOptions["replies"], request: ScriptedRequest): ScriptedReply {
  if (typeof replies === "function") return replies;
  if (replies.length === 0) throw new Error("createScriptedModel: no replies scripted");
  return replies[Math.min(request.index, replies.length - 1)] as ScriptedReply;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Wraps JavaScript in a ```js fence: `reply(js\`FINAL(1)\`)`. */
export function codeReply(code: string): string {
  return `\`\`\`js\n${code}\n\`\`\``;
}
