/**
 * Document QA over a folder with RLMQueryEngine: the answer, and the documents the run actually read. Offline by
 * default (the demo model, which is not an LLM); set OPENAI_API_KEY or OPENAI_BASE_URL (and RLM_MODEL) to use
 * OpenAI or any OpenAI-compatible server through @llamaindex/openai. Pass a folder to use your own documents.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Settings } from "@llamaindex/core/global";
import { Document } from "@llamaindex/core/schema";
import { OpenAI } from "@llamaindex/openai";
import { createDemoModel, generateDemoCorpus } from "@rlm/core/demo";
import { RLMQueryEngine } from "@rlm/llamaindex";

/** Writes the generated memo folder (about 1.1M tokens) to a temporary directory. */
function generatedFolder(): { folder: string; question: string } {
  const { documents, question } = generateDemoCorpus({ totalChars: 4_400_000, documents: 120, seed: 31 });
  const folder = mkdtempSync(join(tmpdir(), "rlm-llamaindex-"));
  for (const doc of documents) {
    mkdirSync(join(folder, doc.path, ".."), { recursive: true });
    writeFileSync(join(folder, doc.path), doc.text);
  }
  return { folder, question };
}

function readFolder(folder: string): Document[] {
  const out: Document[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else
        out.push(
          new Document({
            id_: relative(folder, path),
            text: readFileSync(path, "utf8"),
            metadata: { file: relative(folder, path) },
          }),
        );
    }
  };
  walk(folder);
  return out;
}

const live = process.env.OPENAI_API_KEY !== undefined || process.env.OPENAI_BASE_URL !== undefined;
if (live) {
  Settings.llm = new OpenAI({
    model: process.env.RLM_MODEL ?? "gpt-5-mini",
    ...(process.env.OPENAI_API_KEY ? { apiKey: process.env.OPENAI_API_KEY } : { apiKey: "none" }),
    ...(process.env.OPENAI_BASE_URL ? { baseURL: process.env.OPENAI_BASE_URL } : {}),
  });
}
const own = process.argv[2];
const { folder, question } = own
  ? { folder: own, question: process.argv[3] ?? "What are these documents about?" }
  : generatedFolder();
const documents = readFolder(folder);
const chars = documents.reduce((n, d) => n + d.text.length, 0);
console.log(`${documents.length} documents, ${chars.toLocaleString("en-US")} characters, in ${folder}`);
console.log(`Model: ${live ? (process.env.RLM_MODEL ?? "gpt-5-mini") : "the offline demo model (not an LLM)"}\n`);
console.log(`Q: ${question}`);

const engine = new RLMQueryEngine({ documents, ...(live ? {} : { llm: createDemoModel() }), maxIterations: 12 });
const response = await engine.query({ query: question });
console.log(`A: ${response.message.content}\n`);
console.log(`Sources read (${response.sourceNodes?.length ?? 0} of ${documents.length} documents):`);
for (const source of response.sourceNodes ?? []) {
  console.log(`  ${(source.score ?? 0).toFixed(3)}  ${source.node.id_}`);
}
if (!own) rmSync(folder, { recursive: true, force: true });
