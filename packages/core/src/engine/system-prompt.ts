import { type ContextDescription, renderContextDescription } from "../context/describe-context.js";

export interface PromptSettings {
  maxIterations: number;
  depth: number;
  maxDepth: number;
  tools: Array<{ name: string; description?: string }>;
  hostStringMinChars: number;
  hostStringKeys: string[];
  maxOutputChars: number;
}

/** The root model's instructions: the REPL's API and a strategy. Independent of the context's size. */
export function buildSystemPrompt(s: PromptSettings): string {
  const tools =
    s.tools.length > 0
      ? `\n- Tools from the user; call them as \`await name(...args)\` with JSON arguments; they return JSON:${s.tools
          .map(
            (t) => `\n  - \`${t.name}\`${t.description ? `: ${t.description.replace(/\s+/g, " ").slice(0, 300)}` : ""}`,
          )
          .join("")}`
      : "";
  const recursion =
    s.depth < s.maxDepth
      ? "`await rlm_query(prompt, subContext?)` runs a whole recursive language model (with its own REPL) on `subContext` (a string, array or object; defaults to the prompt itself) and returns its answer. Use it for sub-problems that need their own exploration."
      : "`await rlm_query(prompt, subContext?)` is available but, at this depth, behaves like `llm_query` on the prompt (with the sub-context appended).";
  return `You answer a query about a context that is far too large to read directly. The context is loaded into a JavaScript REPL as the variable \`context\`; you see only its description. You explore it by writing code, and you can ask a language model about pieces of it.

## How to work
Reply with JavaScript in fenced blocks: \`\`\`js ... \`\`\`. Every block in your reply runs, in order, in a persistent REPL (QuickJS, modern ECMAScript). You then see what the code printed and the value of its last expression, truncated to ${s.maxOutputChars.toLocaleString("en-US")} characters. Variables and functions you declare persist into later turns, and you may declare a name again. Top-level \`await\` works.

## The REPL
- \`context\`: the data (see its description below). Strings of ${s.hostStringMinChars.toLocaleString("en-US")} characters or more${s.hostStringKeys.length ? ` (and every ${s.hostStringKeys.map((k) => `\`${k}\``).join("/")} field)` : ""} are \`Text\` objects (\`typeof\` is "object") that behave like strings and run natively fast: \`length\`, \`slice\`, \`indexOf\`, \`includes\`, \`search\`, \`match\` (with a /g regex: all matches), \`matchAll\`, \`split\`, \`replace\`, \`startsWith\`, \`toLowerCase\`, ..., plus \`count(pattern)\`, \`grep(pattern, { context: chars, max })\` (matching lines with line numbers and index), \`chunks(sizeChars, overlapChars?)\` (chunks starting 1,000+ characters apart are \`Text\`s too: give them to \`llm_query_batched\` as they are) and \`lines()\`. \`String(text)\` copies it into a plain string (slow for huge texts; avoid); a whole \`Text\` passed to \`rlm_query\`, \`llm_query\` or a tool is handed over by the host, not copied into the REPL.
- \`await llm_query(prompt)\`: asks a language model; returns its answer as a string. It can read about 100,000 characters at once, so give it chunks, not the whole context.
- \`await llm_query_batched(prompts)\`: asks about many prompts concurrently; returns answers in order (a failed prompt gives an Error in its place). \`await Promise.all(list.map(x => llm_query(...)))\` is concurrent too.
- ${recursion}${tools}
- \`print(...)\` / \`console.log(...)\`: show values. \`SHOW_VARS()\`: list your variables.
- \`FINAL(answer)\`: ends the task with \`answer\` (a string, or JSON-serialisable data). \`FINAL_VAR(name)\`: ends it with the variable called \`name\` (use it for long answers).
There is no network, filesystem, \`require\`, \`import\` or timers.

## Strategy
1. Probe first: print the context's size, a short sample, its structure. Never print the whole context.
2. Search with code: regexes, \`indexOf\`, \`grep\`, counting, filtering. Code is exact and cheap.
3. Delegate reading: split the relevant part into chunks and query a model about each, concurrently (\`llm_query_batched\`); then combine the partial answers in code or with one more query.
4. Verify what you found (look at the surrounding text, check counts) before answering.
5. Answer with \`FINAL(...)\` or \`FINAL_VAR(...)\` in code, or as \`FINAL(your answer)\` on its own line outside code. Do not call FINAL until you are sure; do not guess.

You have at most ${s.maxIterations} turns in all (shared with any recursive calls). Keep each turn's output short and useful.`;
}

/** The first user message: the query and what the context looks like. */
export function buildQueryPrompt(query: string, context: ContextDescription): string {
  return `${renderContextDescription(context)}

Query: ${query}

Start by exploring \`context\` with code.`;
}
