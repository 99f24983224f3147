import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import {
  type ConversationMessage,
  type ConversationSplitOptions,
  conversationToTask,
  DEFAULT_CONVERSATION_SPLIT,
  type JSONValue,
} from "@rlm/core";

export interface RLMTask {
  query: string;
  context: JSONValue;
}

/**
 * How an AI SDK prompt becomes an RLM task: the rule of `conversationToTask` in `@rlm/core` (the last user
 * message is the query, short system messages are instructions, everything else is context), with text file parts
 * (text/*, JSON, XML, CSV) and tool results as named context parts, and `providerOptions.rlm.context`/`.query` as
 * overrides.
 */
export function promptToTask(
  prompt: LanguageModelV4Prompt,
  override: { context?: unknown; query?: unknown } | undefined,
  options: ConversationSplitOptions = DEFAULT_CONVERSATION_SPLIT,
): RLMTask {
  const messages: ConversationMessage[] = prompt.map((message) => {
    if (message.role === "system") return { role: "system", parts: [{ text: message.content }] };
    const parts: ConversationMessage["parts"] = [];
    for (const part of message.content) {
      if (part.type === "text") parts.push({ text: part.text });
      else if (part.type === "file") {
        const text = fileText(part.mediaType, part.data);
        if (text !== undefined) parts.push({ name: part.filename ?? part.mediaType, text });
      } else if (part.type === "tool-result") {
        parts.push({ name: part.toolName, text: JSON.stringify(part.output) });
      }
    }
    return { role: message.role, parts };
  });
  return conversationToTask(messages, override ?? {}, options);
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
