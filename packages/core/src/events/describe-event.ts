import type { RLMEvent } from "./rlm-event.js";

const MAX_SHOWN_CHARS = 1_000;

/**
 * One RLM event as a line or two of text for people, or undefined for events not worth showing. The integrations
 * use it for their step streams (AI SDK reasoning, LangChain and LlamaIndex events, ADK thoughts).
 */
export function describeEvent(event: RLMEvent): string | undefined {
  const where = event.depth > 0 ? `[depth ${event.depth}] ` : "";
  switch (event.type) {
    case "iteration-start":
      return `${where}Iteration ${event.iteration}`;
    case "code-executed": {
      const output =
        event.output.length > MAX_SHOWN_CHARS ? `${event.output.slice(0, MAX_SHOWN_CHARS)}…` : event.output;
      return `${where}\`\`\`js\n${event.code}\n\`\`\`\n${output.trim() ? `Output:\n${output.trimEnd()}` : "(no output)"}`;
    }
    case "subcall-start":
      return event.kind === "rlm" ? `${where}Recursive call: ${shorten(event.prompt)}` : undefined;
    case "subcall-end":
      return `${where}Sub-call ${event.callId} (${event.kind}) ${event.ok ? "done" : `failed: ${event.error ?? "error"}`}${event.cached ? " (cached)" : ""}`;
    case "model-retry":
      return `${where}Retrying a model call in ${Math.round(event.delayMs)} ms: ${event.error}`;
    case "budget-exceeded":
      return `${where}Budget exhausted: ${event.detail}`;
    case "final-answer":
      return event.depth > 0 ? `${where}Answer: ${shorten(event.answer)}` : undefined;
    case "run-start":
    case "model-request":
    case "model-response":
    case "run-finish":
    case "run-error":
      return undefined;
    default: {
      const unknown: never = event;
      return String(unknown);
    }
  }
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
