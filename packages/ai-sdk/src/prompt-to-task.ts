import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import type { JSONValue } from "@rlm/core";

/** Limits of the prompt-splitting rule. */
export interface PromptSplitOptions {
  /** A system message up to this long is kept as instructions in the query; a longer one becomes context. */
  maxInstructionChars: number;
  /** A final user message up to this long is the query; a longer one becomes context too. */
  maxQueryChars: number;
}

export const DEFAULT_PROMPT_SPLIT: PromptSplitOptions = { maxInstructionChars: 2_000, maxQueryChars: 8_000 };

/** One piece of the prompt that went into the RLM's context. */
export interface ContextPart {
  role: "system" | "user" | "assistant" | "tool";
  /** A file part's name (or its media type). */
  name?: string;
  text: string;
}

export interface RLMTask {
  query: string;
  context: JSONValue;
}

/**
 * How an AI SDK prompt becomes an RLM task (query + context). The root model's requests stay bounded however
 * large the prompt is:
 *
 * 1. `providerOptions.rlm.context`, when given, is the context; `providerOptions.rlm.query` overrides the query.
 * 2. Otherwise the **query** is the last user message's text, with short system messages (up to
 *    `maxInstructionChars`) in front of it as instructions. A last user message longer than `maxQueryChars` goes
 *    to the context, and the query says so.
 * 3. Everything else goes to the **context**: long system messages, earlier turns, and text file parts (text/*,
 *    JSON, XML, CSV). One part is passed as a string; several as an array of `{ role, name?, text }`.
 */
export function promptToTask(
  prompt: LanguageModelV4Prompt,
  rlmOptions: { context?: unknown; query?: unknown } | undefined,
  options: PromptSplitOptions = DEFAULT_PROMPT_SPLIT,
): RLMTask {
  const instructions: string[] = [];
  const parts: ContextPart[] = [];
  const lastUserIndex = findLastIndex(prompt, (m) => m.role === "user");
  let question = "";
  prompt.forEach((message, index) => {
    if (message.role === "system") {
      if (message.content.length <= options.maxInstructionChars) instructions.push(message.content);
      else parts.push({ role: "system", text: message.content });
      return;
    }
    for (const part of message.content) {
      if (part.type === "text") {
        if (index === lastUserIndex) question += (question ? "\n" : "") + part.text;
        else parts.push({ role: message.role, text: part.text });
      } else if (part.type === "file") {
        const text = fileText(part.mediaType, part.data);
        if (text !== undefined) parts.push({ role: message.role, name: part.filename ?? part.mediaType, text });
      } else if (part.type === "tool-result" && "output" in part) {
        parts.push({ role: "tool", name: part.toolName, text: JSON.stringify(part.output) });
      }
    }
  });
  if (question.length > options.maxQueryChars) {
    parts.push({ role: "user", name: "request", text: question });
    question = 'Carry out the request in the context part named "request" (the user\'s last message).';
  }
  const override = typeof rlmOptions?.query === "string" && rlmOptions.query.trim() ? rlmOptions.query : undefined;
  const query = [...instructions.map((i) => `Instructions: ${i}`), override ?? question].filter(Boolean).join("\n\n");
  if (rlmOptions?.context !== undefined) return { query, context: rlmOptions.context as JSONValue };
  const context: JSONValue =
    parts.length === 0 ? "" : parts.length === 1 ? (parts[0] as ContextPart).text : (parts as unknown as JSONValue);
  return { query, context };
}

const TEXT_MEDIA = /^text\/|^application\/(json|xml|csv|x-ndjson|ld\+json|yaml)/;

function fileText(mediaType: string, data: unknown): string | undefined {
  if (!TEXT_MEDIA.test(mediaType)) return undefined;
  // V4 tags file data ({ type: "text" | "data" | "url" | "reference" }); V3 gives the bytes, base64 or a URL.
  if (data !== null && typeof data === "object" && "type" in data) {
    const tagged = data as { type: string; text?: string; data?: unknown };
    if (tagged.type === "text") return tagged.text;
    if (tagged.type === "data") return decode(tagged.data);
    return undefined;
  }
  return decode(data);
}

function decode(data: unknown): string | undefined {
  if (typeof data === "string") return Buffer.from(data, "base64").toString("utf8");
  if (data instanceof Uint8Array) return Buffer.from(data).toString("utf8");
  return undefined;
}

function findLastIndex<T>(items: T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i] as T)) return i;
  return -1;
}
