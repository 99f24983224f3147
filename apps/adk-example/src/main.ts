/**
 * An RLM agent reads a large document set (held in session state) and answers; a writer agent turns the answer
 * into a brief, reading it from state. Offline by default: the RLM runs the demo model and the writer a template
 * (neither is an LLM). Set GOOGLE_API_KEY to use Gemini for both (RLM_MODEL picks the model).
 */
import {
  BaseLlm,
  type BaseLlmConnection,
  Gemini,
  InMemoryRunner,
  isFinalResponse,
  LlmAgent,
  type LlmRequest,
  type LlmResponse,
  SequentialAgent,
  stringifyContent,
} from "@google/adk";
import { RLMAgent } from "@rlm/adk";
import { createDemoModel, generateDemoCorpus } from "@rlm/core/demo";

/** Offline stand-in for the writer: formats its instruction into a brief. Not an LLM. */
class TemplateWriter extends BaseLlm {
  constructor() {
    super({ model: "template-writer" });
  }
  async *generateContentAsync(request: LlmRequest): AsyncGenerator<LlmResponse, void> {
    const finding = String(request.config?.systemInstruction ?? "").match(/Finding: (.*)/)?.[1] ?? "(nothing)";
    yield {
      content: {
        role: "model",
        parts: [
          { text: `BRIEF\n- Finding: ${finding}\n- Source: the memo archive\n- Action: share with the security team.` },
        ],
      },
      turnComplete: true,
    };
  }
  async connect(): Promise<BaseLlmConnection> {
    throw new Error("no live mode");
  }
}

const live = process.env.GOOGLE_API_KEY !== undefined;
const modelName = process.env.RLM_MODEL ?? "gemini-2.5-flash";
const { documents, question } = generateDemoCorpus({ totalChars: 4_400_000, documents: 150, seed: 77 });

const reader = new RLMAgent({
  name: "reader",
  description: "Answers questions over the memo archive in state.memos",
  model: live ? new Gemini({ model: modelName }) : createDemoModel(),
  contextKey: "memos",
  outputKey: "finding",
  maxIterations: 12,
});
const writer = new LlmAgent({
  name: "writer",
  model: live ? new Gemini({ model: modelName }) : new TemplateWriter(),
  instruction: "Turn the finding into a three-line brief for a manager. Finding: {finding}",
});
const team = new SequentialAgent({ name: "team", subAgents: [reader, writer] });

const runner = new InMemoryRunner({ agent: team, appName: "memo-desk" });
const session = await runner.sessionService.createSession({
  appName: "memo-desk",
  userId: "demo",
  state: { memos: documents },
});
console.log(
  `${documents.length} memos in state (${documents.reduce((n, d) => n + d.text.length, 0).toLocaleString("en-US")} characters). Model: ${live ? modelName : "offline stand-ins (not LLMs)"}.`,
);
console.log(`Q: ${question}\n`);
for await (const event of runner.runAsync({
  userId: "demo",
  sessionId: session.id,
  newMessage: { role: "user", parts: [{ text: question }] },
})) {
  if (event.partial && event.author === "reader")
    console.log(`  [reader] ${(event.content?.parts?.[0]?.text ?? "").split("\n")[0]}`);
  else if (isFinalResponse(event)) console.log(`\n[${event.author}] ${stringifyContent(event)}`);
}
const after = await runner.sessionService.getSession({ appName: "memo-desk", userId: "demo", sessionId: session.id });
console.log(`\nstate.finding = ${JSON.stringify(after?.state.finding)}`);
