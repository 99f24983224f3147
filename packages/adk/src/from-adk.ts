import { type BaseLlm, LLMRegistry, type LlmRequest } from "@google/adk";
import type { Content } from "@google/genai";
import type { GenerateRequest, GenerateResult, LanguageModel } from "@rlm/core";

/**
 * Adapts any ADK `BaseLlm` (e.g. `new Gemini({ model })`), or a model name ADK resolves (`"gemini-2.5-flash"`), to
 * the `LanguageModel` of `@rlm/core`: system messages become the request's `systemInstruction`, the others its
 * contents; the final non-thought text and `usageMetadata` come back; the abort signal is passed through. An
 * `errorCode` in a response is thrown as an error carrying it.
 */
export function fromADK(llm: BaseLlm | string): LanguageModel {
  const model = typeof llm === "string" ? LLMRegistry.newLlm(llm) : llm;
  return {
    modelId: model.model,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const system = request.messages.filter((m) => m.role === "system").map((m) => m.content);
      const contents: Content[] = request.messages
        .filter((m) => m.role !== "system")
        .map((m) => ({ role: m.role === "assistant" ? "model" : "user", parts: [{ text: m.content }] }));
      const llmRequest: LlmRequest = {
        contents,
        config: system.length > 0 ? { systemInstruction: system.join("\n\n") } : {},
        liveConnectConfig: {},
        toolsDict: {},
      };
      let text = "";
      let usage: GenerateResult["usage"];
      for await (const response of model.generateContentAsync(llmRequest, false, request.signal)) {
        if (response.errorCode) {
          throw Object.assign(new Error(response.errorMessage ?? `model error ${response.errorCode}`), {
            code: response.errorCode,
          });
        }
        if (response.partial) continue;
        for (const part of response.content?.parts ?? []) if (part.text && !part.thought) text += part.text;
        const meta = response.usageMetadata;
        if (meta)
          usage = {
            inputTokens: meta.promptTokenCount ?? 0,
            outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
          };
      }
      return { text, ...(usage ? { usage } : {}) };
    },
  };
}
