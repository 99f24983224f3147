import type { GenerateRequest, GenerateResult, LanguageModel } from "../model/language-model.js";
import { demoRootProgram, isAggregationQuery } from "./demo-programs.js";
import { answerFromSnippet } from "./extractive-answer.js";

/**
 * **Not a language model.** A deterministic stand-in that lets the demo, the examples and the benchmarks run
 * offline, for real: as the root model it plays a fixed RLM strategy written as sandbox code (probe the context,
 * search it with patterns derived from the question, map a sub-query over candidate passages with
 * `llm_query_batched`, reduce, answer with `FINAL`); as the sub-model it answers from the snippet it is given by
 * extractive means (the best-scoring sentence, or a count of matching records). It knows nothing about any
 * particular document.
 */
export interface DemoModelOptions {
  modelId?: string;
  /** Delay before each reply, to make the progress view watchable. Default 0. */
  latencyMs?: number;
}

/** Marker the root strategy puts in its sub-prompts, so the sub role knows which task it was given. */
export const DEMO_SUBTASK_FIND = "[demo:find]";
export const DEMO_SUBTASK_COUNT = "[demo:count]";

/** Creates the offline demo model. Use one instance for both roles, or two. */
export function createDemoModel(options: DemoModelOptions = {}): LanguageModel {
  const latencyMs = options.latencyMs ?? 0;
  return {
    modelId: options.modelId ?? "rlm-demo (offline, not an LLM)",
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      if (latencyMs > 0) await sleep(latencyMs, request.signal);
      request.signal?.throwIfAborted();
      const text = respond(request.messages.map((m) => ({ role: m.role, content: m.content })));
      const input = request.messages.reduce((n, m) => n + m.content.length, 0);
      return { text, usage: { inputTokens: Math.ceil(input / 4), outputTokens: Math.ceil(text.length / 4) } };
    },
  };
}

function respond(messages: Array<{ role: string; content: string }>): string {
  const isRoot =
    messages[0]?.role === "system" && messages[0].content.includes("The context is loaded into a JavaScript REPL");
  if (!isRoot) return answerFromSnippet(messages[messages.length - 1]?.content ?? "");
  const query = /\nQuery: ([\s\S]*?)\n\nStart by exploring/.exec(messages[1]?.content ?? "")?.[1] ?? "";
  const turn = messages.filter((m) => m.role === "assistant").length;
  const last = messages[messages.length - 1]?.content ?? "";
  if (last.includes("You have used all your turns")) return "FINAL_VAR(answer)";
  const program = demoRootProgram(query, turn);
  if (program === undefined) return "I could not find an answer in the context.\nFINAL(I could not find an answer.)";
  const plan = isAggregationQuery(query) ? "count the matching records" : "find passages about it";
  const intro = turn === 0 ? `I will probe the context, then ${plan}.` : "Next step.";
  return `${intro}\n\`\`\`js\n${program}\n\`\`\``;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
