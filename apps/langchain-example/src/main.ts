/**
 * One chain, two models: a plain chat model sees a truncated document; ChatRLM, swapped in with one line, reads
 * all of it. Offline by default (fake chat model + the demo model, which is not an LLM); set OPENAI_API_KEY or
 * OPENAI_BASE_URL (and RLM_MODEL) to use a real model for both.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { ChatOpenAI } from "@langchain/openai";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { ChatRLM } from "@rlm/langchain";

const live = process.env.OPENAI_API_KEY !== undefined || process.env.OPENAI_BASE_URL !== undefined;
const chatModel: BaseChatModel = live
  ? new ChatOpenAI({
      model: process.env.RLM_MODEL ?? "gpt-5-mini",
      ...(process.env.OPENAI_API_KEY ? { apiKey: process.env.OPENAI_API_KEY } : { apiKey: "none" }),
      ...(process.env.OPENAI_BASE_URL ? { configuration: { baseURL: process.env.OPENAI_BASE_URL } } : {}),
    })
  : new FakeListChatModel({ responses: ["I can only see the beginning of the document; it does not say."] });

const document = generateHaystack({
  chars: 2_000_000,
  needle: "Board decision 17: the Lisbon office closes on 30 June.",
  seed: 8,
});
const prompt = ChatPromptTemplate.fromMessages([
  ["system", "Answer questions about this document:\n{document}"],
  ["human", "{question}"],
]);
const input = { question: "When does the Lisbon office close?" };
console.log(
  `Document: ${document.length.toLocaleString("en-US")} characters. Model: ${live ? "a real model" : "offline (fake chat model / demo model)"}.\n`,
);

// 1. A plain chain. The whole document would not fit a context window, so it is cut to the first 20,000 characters.
const plain = prompt.pipe(chatModel).pipe(new StringOutputParser());
console.log(`plain chat model → ${await plain.invoke({ ...input, document: document.slice(0, 20_000) })}`);

// 2. The same chain with ChatRLM swapped in: the one line that changes. The full document goes in.
const rlm = new ChatRLM({ model: live ? chatModel : createDemoModel(), maxIterations: 12 });
const withRLM = prompt.pipe(rlm).pipe(new StringOutputParser());
let steps = 0;
const answer = await withRLM.invoke(
  { ...input, document },
  { callbacks: [{ handleCustomEvent: async (name: string) => void (name === "rlm:code-executed" && steps++) }] },
);
console.log(`ChatRLM          → ${answer}`);
console.log(`  (${steps} code cells run; the root model never saw the document)`);
