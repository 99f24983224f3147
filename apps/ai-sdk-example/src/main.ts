/**
 * An RLM anywhere an AI SDK model goes. Offline by default (the demo model, which is not an LLM); set
 * OPENAI_API_KEY or OPENAI_BASE_URL (and RLM_MODEL) to use a real OpenAI-compatible model.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { createRLMProvider, type RLMModelInput } from "@rlm/ai-sdk";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { generateText, streamText } from "ai";

function innerModel(): { model: RLMModelInput; label: string } {
  const baseURL = process.env.OPENAI_BASE_URL;
  const apiKey = process.env.OPENAI_API_KEY;
  if (baseURL === undefined && apiKey === undefined)
    return { model: createDemoModel(), label: "the offline demo model (not an LLM)" };
  const name = process.env.RLM_MODEL ?? "gpt-5-mini";
  const provider = createOpenAICompatible({
    name: "openai",
    baseURL: baseURL ?? "https://api.openai.com/v1",
    ...(apiKey ? { apiKey } : {}),
    includeUsage: true,
  });
  return { model: provider.chatModel(name), label: name };
}

const { model, label } = innerModel();
const rlm = createRLMProvider({ model, maxIterations: 12, concurrency: 8 });
const report = generateHaystack({
  chars: 3_000_000,
  needle: "Incident 4471 was caused by a misconfigured load balancer in Frankfurt.",
  seed: 21,
});
console.log(`Inner model: ${label}. Document: ${report.length.toLocaleString("en-US")} characters.\n`);

// 1. generateText: the long document goes in the instructions; the RLM keeps it out of the root model's prompt.
const generated = await generateText({
  model: rlm("rlm"),
  instructions: `Incident report archive:\n${report}`,
  prompt: "What caused incident 4471?",
});
console.log(`generateText → ${generated.text}`);
console.log(`  ${generated.usage.inputTokens} input tokens, finish: ${generated.finishReason}\n`);

// 2. streamText: the RLM's steps arrive as reasoning while it works, then the answer.
const streamed = streamText({
  model: rlm("rlm"),
  prompt: "Where did incident 4471 happen?",
  providerOptions: { rlm: { context: report } },
});
for await (const part of streamed.fullStream) {
  if (part.type === "reasoning-delta") process.stdout.write(`  · ${part.text.split("\n")[0]}\n`);
  if (part.type === "text-delta") process.stdout.write(`streamText → ${part.text}`);
}
console.log("");
