/**
 * The sandbox programs the demo model writes as root. They are generic: everything they know about the task is
 * derived from the question's words at run time.
 */

const STOPWORDS = new Set(
  "a an and are as at be by can did do does for from has have how i in is it its of on or that the their there these this to was were what when where which who whom whose why will with you your me my we our they them than then into about over under between all any each".split(
    " ",
  ),
);
const AGGREGATION_WORDS = new Set(
  "how many count number total sum average mean records record entries entry rows row items item amount amounts value values".split(
    " ",
  ),
);

/** True for counting and aggregation questions ("How many ...", "total ...", "average ..."). */
export function isAggregationQuery(query: string): boolean {
  return /\b(how many|count|number of|total|sum of|average|mean)\b/i.test(query);
}

/** Content words of a question: lower case, no stop words, de-duplicated, quoted phrases kept whole. */
export function questionTerms(query: string): string[] {
  const phrases = [...query.matchAll(/["“']([^"”']{2,})["”']/g)].map((m) => (m[1] as string).toLowerCase());
  const words = query
    .replace(/["“”']/g, " ")
    .toLowerCase()
    .split(/[^\p{L}\p{N}-]+/u)
    .filter((w) => w.length >= 2 && !STOPWORDS.has(w));
  return [...new Set([...phrases, ...words])];
}

const SHARED_HELPERS = String.raw`
function toDocs(c) {
  const isText = (v) => typeof v === "string" || v instanceof Text;
  if (isText(c)) return [{ id: "context", text: c }];
  if (Array.isArray(c)) return c.map((d, i) => isText(d) ? { id: "#" + i, text: d } : { id: String(d.path ?? d.id ?? "#" + i), text: isText(d.text) ? d.text : JSON.stringify(d) });
  return Object.keys(c).map((k) => ({ id: k, text: isText(c[k]) ? c[k] : JSON.stringify(c[k]) }));
}
const esc = (s) => s.replace(/[.*+?^$()|[\]{}\\]/g, "\\$&");
const stem = (w) => w.length > 4 && w.endsWith("s") ? w.slice(0, -1) : w;
`;

/** The root's code for `turn` (0-based), or undefined when the strategy has nothing more to do. */
export function demoRootProgram(query: string, turn: number): string | undefined {
  const aggregate = isAggregationQuery(query);
  const terms = questionTerms(query).filter((t) => !aggregate || !AGGREGATION_WORDS.has(t));
  const head = `const QUERY = ${JSON.stringify(query)};\nconst TERMS = ${JSON.stringify(terms)};`;
  if (aggregate)
    return turn === 0 ? `${head}\n${SHARED_HELPERS}\n${COUNT_PROBE}` : turn === 1 ? COUNT_MAP_REDUCE : undefined;
  return turn === 0 ? `${head}\n${SHARED_HELPERS}\n${FIND_PROBE}` : turn === 1 ? FIND_MAP_REDUCE : undefined;
}

const FIND_PROBE = String.raw`const docs = toDocs(context);
let total = 0;
for (const d of docs) total += d.text.length;
print("documents:", docs.length, "characters:", total);
print("sample:", JSON.stringify(docs[0].text.slice(0, 160)));
// Count each term natively, then search with the rarest ones: they point at the passage that answers.
const counts = TERMS.map((t) => {
  const re = new RegExp(esc(stem(t)), "gi");
  let n = 0;
  for (const d of docs) n += typeof d.text === "string" ? (d.text.match(re) || []).length : d.text.count(re);
  return [t, n];
}).filter(([, n]) => n > 0).sort((a, b) => a[1] - b[1]);
print("term counts:", JSON.stringify(counts));
// Only terms nearly as rare as the rarest: a common word would flood the search.
const rarest = counts.length ? counts[0][1] : 0;
const rare = counts.filter(([, n]) => n <= Math.max(50, rarest * 10)).slice(0, 3).map(([t]) => t);
const pattern = new RegExp(rare.map((t) => esc(stem(t))).join("|"), "i");
let candidates = [];
for (const d of docs) {
  if (rare.length === 0) break;
  const hits = typeof d.text === "string"
    ? d.text.split("\n").map((line, i) => ({ line: i + 1, text: line })).filter((h) => pattern.test(h.text)).slice(0, 200)
    : d.text.grep(pattern, { context: 300, max: 200 });
  for (const h of hits) {
    const lower = h.text.toLowerCase();
    const score = TERMS.reduce((s, t) => s + (lower.includes(stem(t)) ? 1 : 0), 0);
    candidates.push({ doc: d.id, line: h.line, score, passage: h.context ?? h.text });
  }
}
candidates.sort((a, b) => b.score - a.score);
const top = candidates.slice(0, 16);
print(candidates.length, "candidate lines; best:", top.slice(0, 3).map((c) => c.doc + ":" + c.line + " (score " + c.score + ")").join(", "));`;

const FIND_MAP_REDUCE = String.raw`// Ask a sub-model about each candidate passage at once, then keep the best-supported answer.
const replies = await llm_query_batched(top.map((c) =>
  "[demo:find]\nQuestion: " + QUERY + "\n\nPassage (" + c.doc + ", line " + c.line + "):\n" + c.passage));
const votes = new Map();
replies.forEach((r, i) => {
  if (r instanceof Error || r.trim() === "NONE") return;
  votes.set(r.trim(), (votes.get(r.trim()) || 0) + top[i].score + 1);
});
const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
print("answers from", replies.length, "sub-calls:", JSON.stringify(ranked.slice(0, 3)));
const answer = ranked.length ? ranked[0][0] : "I could not find an answer in the context.";
FINAL_VAR("answer");`;

const COUNT_PROBE = String.raw`const docs = toDocs(context);
// Records are array items, or the lines of a text.
const records = docs.length === 1 && docs[0].id === "context"
  ? (typeof docs[0].text === "string" ? docs[0].text.split("\n") : docs[0].text.lines()).filter((l) => l.trim() !== "")
  : docs.map((d) => typeof d.text === "string" ? d.text : String(d.text));
print("records:", records.length, "sample:", JSON.stringify(records[0]).slice(0, 200));
const FIELD = (QUERY.match(/\b(?:total|sum of|average|mean)\s+(?:the\s+)?(\w+)/i) || [])[1] || null;
const filters = TERMS.filter((t) => t !== (FIELD || "").toLowerCase());
const batches = [];
for (let i = 0; i < records.length; i += 500) batches.push(records.slice(i, i + 500));
print("filters:", JSON.stringify(filters), "field:", FIELD, "batches:", batches.length);`;

const COUNT_MAP_REDUCE = String.raw`// Map: a sub-model counts the matching records of each batch. Reduce: add up.
const partials = await llm_query_batched(batches.map((b) =>
  "[demo:count]\n" + JSON.stringify({ filters, field: FIELD }) + "\n" + b.join("\n")));
let count = 0, sum = 0;
for (const p of partials) {
  if (p instanceof Error) continue;
  const r = JSON.parse(p);
  count += r.count;
  sum += r.sum;
}
print("matching records:", count, FIELD ? "sum of " + FIELD + ": " + sum : "");
const answer = /average|mean/i.test(QUERY) ? String(count ? Math.round((sum / count) * 100) / 100 : 0)
  : FIELD && /total|sum/i.test(QUERY) ? String(Math.round(sum * 100) / 100)
  : String(count);
FINAL_VAR("answer");`;
