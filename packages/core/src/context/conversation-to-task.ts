import type { JSONValue } from "../settings/rlm-settings.js";

/** One message of a framework's conversation, reduced to text parts. A part with a `name` is a file or a tool result. */
export interface ConversationMessage {
  role: "system" | "user" | "assistant" | "tool";
  parts: Array<{ text: string; name?: string }>;
}

/** Limits of the conversation-splitting rule. */
export interface ConversationSplitOptions {
  /** A system part up to this long is kept as instructions in the query; a longer one becomes context. */
  maxInstructionChars: number;
  /** A final user message up to this long is the query; a longer one becomes context too. */
  maxQueryChars: number;
}

export const DEFAULT_CONVERSATION_SPLIT: ConversationSplitOptions = {
  maxInstructionChars: 2_000,
  maxQueryChars: 8_000,
};

/** One piece of a conversation that went into the context. */
export interface ContextPart {
  role: ConversationMessage["role"];
  name?: string;
  text: string;
}

/**
 * The one rule every integration uses to turn a chat conversation into an RLM task, so the root model's requests
 * stay bounded however large the conversation is:
 *
 * 1. `override.context`, when given, is the context; `override.query` replaces the query.
 * 2. Otherwise the **query** is the last user message's text, with short system parts (up to
 *    `maxInstructionChars`) in front of it as instructions. A last user message longer than `maxQueryChars` goes to
 *    the context, and the query points at it.
 * 3. Everything else is **context**: long system parts, earlier turns, files and tool results. One part is passed
 *    as a string; several as an array of `{ role, name?, text }`.
 */
export function conversationToTask(
  messages: ConversationMessage[],
  override: { context?: unknown; query?: unknown } = {},
  options: ConversationSplitOptions = DEFAULT_CONVERSATION_SPLIT,
): { query: string; context: JSONValue } {
  const instructions: string[] = [];
  const parts: ContextPart[] = [];
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") {
      lastUser = i;
      break;
    }
  }
  let question = "";
  messages.forEach((message, index) => {
    for (const part of message.parts) {
      if (message.role === "system" && part.name === undefined && part.text.length <= options.maxInstructionChars) {
        instructions.push(part.text);
      } else if (index === lastUser && part.name === undefined) {
        question += (question ? "\n" : "") + part.text;
      } else {
        parts.push({ role: message.role, ...(part.name !== undefined ? { name: part.name } : {}), text: part.text });
      }
    }
  });
  if (question.length > options.maxQueryChars) {
    parts.push({ role: "user", name: "request", text: question });
    question = 'Carry out the request in the context part named "request" (the user\'s last message).';
  }
  const replacement = typeof override.query === "string" && override.query.trim() ? override.query : undefined;
  const query = [...instructions.map((i) => `Instructions: ${i}`), replacement ?? question]
    .filter(Boolean)
    .join("\n\n");
  if (override.context !== undefined) return { query, context: override.context as JSONValue };
  const context: JSONValue =
    parts.length === 0 ? "" : parts.length === 1 ? (parts[0] as ContextPart).text : (parts as unknown as JSONValue);
  return { query, context };
}
