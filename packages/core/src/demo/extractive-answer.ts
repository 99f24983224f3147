import { questionTerms } from "./demo-programs.js";

/**
 * The demo model's sub role. For `[demo:count]` prompts it counts the records (lines) that contain every filter
 * term and sums a numeric field; for anything else it returns the passage's sentence that best matches the
 * question's terms, or `NONE`.
 */
export function answerFromSnippet(prompt: string): string {
  if (prompt.startsWith("[demo:count]")) return countRecords(prompt);
  const question = /Question: (.*)/.exec(prompt)?.[1] ?? prompt.split("\n")[0] ?? "";
  const passage = prompt.includes("\n\n") ? prompt.slice(prompt.indexOf("\n\n") + 2) : prompt;
  const body = passage.replace(/^Passage[^\n]*:\n/, "");
  return bestSentence(question, body) ?? "NONE";
}

function bestSentence(question: string, passage: string): string | undefined {
  const terms = questionTerms(question).map(stem);
  if (terms.length === 0) return undefined;
  let best: { sentence: string; score: number } | undefined;
  for (const sentence of passage.split(/(?<=[.!?])\s+|\n+/)) {
    const lower = sentence.toLowerCase();
    let score = 0;
    for (const t of terms) if (lower.includes(t)) score++;
    if (score > 0 && (best === undefined || score > best.score)) best = { sentence: sentence.trim(), score };
  }
  // At least half of the question's terms must be there, or the passage does not answer it.
  return best && best.score * 2 >= terms.length ? best.sentence : undefined;
}

function countRecords(prompt: string): string {
  const [, header = "{}", ...lines] = prompt.split("\n");
  const { filters = [], field = null } = JSON.parse(header) as { filters?: string[]; field?: string | null };
  const wanted = filters.map(stem);
  const fieldRe = field ? new RegExp(`"?${field}"?\\s*[:=]\\s*"?(-?\\d+(?:\\.\\d+)?)`, "i") : undefined;
  let count = 0;
  let sum = 0;
  for (const line of lines) {
    const lower = line.toLowerCase();
    if (!wanted.every((t) => lower.includes(t))) continue;
    count++;
    const m = fieldRe?.exec(line);
    if (m) sum += Number(m[1]);
  }
  return JSON.stringify({ count, sum });
}

function stem(word: string): string {
  return word.length > 4 && word.endsWith("s") ? word.slice(0, -1) : word;
}
