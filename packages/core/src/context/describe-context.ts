/** What the root model is told about `context` instead of seeing it: its shape and sizes, never its content. */
export interface ContextDescription {
  type: "string" | "array" | "object" | "number" | "boolean" | "null";
  /** Characters of text in the whole context (all strings, or the JSON length for non-string leaves). */
  totalChars: number;
  /** Items of an array, keys of an object. */
  parts?: number;
  /** Character length of each part (first 100 parts). */
  partLengths?: number[];
  /** Keys of an object (first 100). */
  keys?: string[];
}

const MAX_LISTED_PARTS = 100;

/** Measures `context` (already validated). Cost is one walk over its structure, not over its characters. */
export function describeContext(context: unknown): ContextDescription {
  if (typeof context === "string") return { type: "string", totalChars: context.length };
  if (Array.isArray(context)) {
    const lengths = context.map(measureChars);
    return {
      type: "array",
      totalChars: sum(lengths),
      parts: context.length,
      partLengths: lengths.slice(0, MAX_LISTED_PARTS),
    };
  }
  if (context !== null && typeof context === "object") {
    const entries = Object.entries(context);
    const lengths = entries.map(([, v]) => measureChars(v));
    return {
      type: "object",
      totalChars: sum(lengths),
      parts: entries.length,
      keys: entries.slice(0, MAX_LISTED_PARTS).map(([k]) => k),
      partLengths: lengths.slice(0, MAX_LISTED_PARTS),
    };
  }
  if (context === null) return { type: "null", totalChars: 4 };
  return { type: typeof context as "number" | "boolean", totalChars: String(context).length };
}

/** Characters of text in a value: string lengths summed, other leaves by their JSON length. */
export function measureChars(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) {
    let n = 0;
    for (const item of value) n += measureChars(item);
    return n;
  }
  if (value !== null && typeof value === "object") {
    let n = 0;
    for (const item of Object.values(value)) n += measureChars(item);
    return n;
  }
  return String(value).length;
}

/** A few lines for the root model's prompt. */
export function renderContextDescription(d: ContextDescription): string {
  const chars = d.totalChars.toLocaleString("en-US");
  const approxTokens = Math.ceil(d.totalChars / 4).toLocaleString("en-US");
  switch (d.type) {
    case "string":
      return `\`context\` is a string of ${chars} characters (about ${approxTokens} tokens).`;
    case "array": {
      const lines = [
        `\`context\` is an array of ${d.parts} items, ${chars} characters in all (about ${approxTokens} tokens).`,
      ];
      if (d.partLengths && d.partLengths.length > 0)
        lines.push(`Item lengths in characters: ${summarise(d.partLengths, d.parts ?? 0)}.`);
      return lines.join("\n");
    }
    case "object": {
      const keys = (d.keys ?? []).map((k) => JSON.stringify(k)).join(", ");
      const more = (d.parts ?? 0) > (d.keys?.length ?? 0) ? `, ... (${d.parts} keys in all)` : "";
      return [
        `\`context\` is an object with ${d.parts} keys, ${chars} characters of text in all (about ${approxTokens} tokens).`,
        `Keys: ${keys}${more}.`,
        d.partLengths && d.partLengths.length > 0
          ? `Value lengths in characters: ${summarise(d.partLengths, d.parts ?? 0)}.`
          : "",
      ]
        .filter(Boolean)
        .join("\n");
    }
    default:
      return `\`context\` is a ${d.type} (${chars} characters).`;
  }
}

function summarise(lengths: number[], total: number): string {
  const shown = lengths.slice(0, 20).join(", ");
  const sorted = [...lengths].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const extra =
    total > 20
      ? ` ... (${total} items; min ${sorted[0]}, median ${median}, max ${sorted[sorted.length - 1]}${total > lengths.length ? " among the first 100" : ""})`
      : "";
  return `[${shown}]${extra}`;
}

function sum(values: number[]): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}
