/** Deterministic synthetic data for the demo, examples and benchmarks. Generated at run time from a seed. */

/** A small, fast, seeded PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUBJECTS = [
  "The committee",
  "Our team",
  "The auditor",
  "The board",
  "A contractor",
  "The night shift",
  "Finance",
  "The archive office",
  "Legal",
  "The field crew",
];
const VERBS = [
  "reviewed",
  "approved",
  "postponed",
  "summarised",
  "questioned",
  "filed",
  "revised",
  "circulated",
  "discussed",
  "flagged",
];
const OBJECTS = [
  "the quarterly budget",
  "the maintenance schedule",
  "a supplier invoice",
  "the safety checklist",
  "the travel policy",
  "a staffing request",
  "the draft minutes",
  "the inventory report",
  "a customer complaint",
  "the parking rota",
];
const TAILS = [
  "without further comment.",
  "after a short debate.",
  "pending a second opinion.",
  "as agreed last week.",
  "for the next meeting.",
  "with minor corrections.",
  "at the request of the director.",
  "before the deadline.",
  "in the usual way.",
  "once again.",
];

/** One line of filler prose. */
function sentence(random: () => number): string {
  const pick = (list: string[]) => list[Math.floor(random() * list.length)] as string;
  return `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}`;
}

/** A long text of filler lines with `needle` planted as the line at `needleAt` (0..1 of the way through). */
export function generateHaystack(options: { chars: number; needle: string; seed?: number; needleAt?: number }): string {
  const random = seededRandom(options.seed ?? 42);
  const lines: string[] = [];
  let length = 0;
  let planted = false;
  const plantAt = Math.floor(options.chars * (options.needleAt ?? 0.61));
  while (length < options.chars) {
    const line = !planted && length >= plantAt ? options.needle : sentence(random);
    if (line === options.needle) planted = true;
    lines.push(line);
    length += line.length + 1;
  }
  if (!planted) lines.push(options.needle);
  return lines.join("\n");
}

export interface DemoDocument {
  path: string;
  text: string;
}

/**
 * A folder's worth of memos (`documents` files, `totalChars` characters in all) with one planted fact in one of
 * them, and the question it answers.
 */
export function generateDemoCorpus(options: { totalChars?: number; documents?: number; seed?: number } = {}): {
  documents: DemoDocument[];
  question: string;
  expected: string;
} {
  const totalChars = options.totalChars ?? 4_400_000;
  const count = options.documents ?? 200;
  const random = seededRandom(options.seed ?? 7);
  const code = `${Math.floor(1000 + random() * 9000)}-${["XRAY", "TANGO", "OSCAR", "DELTA"][Math.floor(random() * 4)]}`;
  const fact = `Security note: the vault access code for Project Halcyon is ${code}.`;
  const target = Math.floor(random() * count);
  const documents: DemoDocument[] = [];
  for (let i = 0; i < count; i++) {
    const text = generateHaystack({
      chars: Math.floor(totalChars / count),
      needle: i === target ? fact : sentence(random),
      seed: (options.seed ?? 7) * 1000 + i,
      needleAt: random(),
    });
    documents.push({ path: `memos/memo-${String(i + 1).padStart(4, "0")}.txt`, text });
  }
  return { documents, question: "What is the vault access code for Project Halcyon?", expected: code };
}

/** `count` order records as JSON lines: `{"order":"o-1","city":"Berlin","status":"shipped","amount":12.5}`. */
export function generateOrders(options: { count: number; seed?: number }): string {
  const random = seededRandom(options.seed ?? 11);
  const cities = ["Berlin", "Lisbon", "Osaka", "Toronto", "Nairobi", "Lima"];
  const statuses = ["shipped", "pending", "cancelled", "returned"];
  const lines: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const city = cities[Math.floor(random() * cities.length)];
    const status = statuses[Math.floor(random() * statuses.length)];
    const amount = Math.round(random() * 50_000) / 100;
    lines.push(JSON.stringify({ order: `o-${i + 1}`, city, status, amount }));
  }
  return lines.join("\n");
}
