/** Languages whose fenced blocks are run. */
const RUNNABLE = new Set(["js", "javascript", "repl"]);

export interface ParsedResponse {
  /** Runnable code blocks, in order. */
  blocks: string[];
  /** A runnable block was opened and never closed (the reply was probably cut off); it is not run. */
  unclosedBlock: boolean;
  /** The reply with every fenced block removed: where a `FINAL(...)` in prose is looked for. */
  prose: string;
}

/**
 * Splits a model reply into runnable code blocks (```js, ```javascript, ```repl) and prose. Fences may be
 * indented and use three or more backticks; other languages' blocks are neither run nor searched for FINAL.
 */
export function parseResponse(text: string): ParsedResponse {
  const blocks: string[] = [];
  const prose: string[] = [];
  const lines = text.split("\n");
  let open: { fence: string; lang: string; body: string[] } | undefined;
  for (const line of lines) {
    if (open === undefined) {
      const start = /^\s*(`{3,}|~{3,})\s*([\w-]*)[^\n`]*$/.exec(line);
      if (start) {
        open = { fence: start[1] as string, lang: (start[2] ?? "").toLowerCase(), body: [] };
      } else {
        prose.push(line);
      }
      continue;
    }
    const trimmed = line.trim();
    if (
      trimmed.startsWith(open.fence[0] as string) &&
      trimmed.length >= open.fence.length &&
      /^(`+|~+)$/.test(trimmed) &&
      trimmed[0] === open.fence[0]
    ) {
      if (RUNNABLE.has(open.lang)) blocks.push(open.body.join("\n"));
      open = undefined;
    } else {
      open.body.push(line);
    }
  }
  return { blocks, unclosedBlock: open !== undefined && RUNNABLE.has(open.lang), prose: prose.join("\n") };
}

export type ProseFinal = { kind: "final"; answer: string } | { kind: "final-var"; name: string };

/**
 * Finds the answer a model wrote in prose, outside code: `FINAL(...)` or `FINAL_VAR(name)` at the start of a line
 * (markdown emphasis and quote markers allowed before it). The last one wins. `FINAL("quoted")` is unquoted;
 * anything else between the parentheses is the answer verbatim, across lines if need be.
 */
export function findProseFinal(prose: string): ProseFinal | undefined {
  let found: ProseFinal | undefined;
  const start = /(^|\n)[ \t>*_#-]*(FINAL_VAR|FINAL)\(/g;
  for (let m = start.exec(prose); m !== null; m = start.exec(prose)) {
    const open = m.index + m[0].length;
    const close = matchingParen(prose, open);
    if (close === -1) continue;
    const inner = prose.slice(open, close).trim();
    if (m[2] === "FINAL_VAR") {
      const name = unquote(inner).trim();
      if (/^[A-Za-z_$][\w$]*$/.test(name)) found = { kind: "final-var", name };
    } else if (inner.length > 0) {
      found = { kind: "final", answer: unquote(inner) };
    }
    start.lastIndex = close;
  }
  return found;
}

/** Index of the `)` closing a `(` just before `from`, skipping quoted strings; -1 if unbalanced. */
function matchingParen(text: string, from: number): number {
  let depth = 1;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "`") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function unquote(text: string): string {
  const t = text.trim();
  if (t.length >= 2) {
    const q = t[0];
    if ((q === '"' || q === "'" || q === "`") && t[t.length - 1] === q) {
      if (q === '"') {
        try {
          return JSON.parse(t) as string;
        } catch {
          return t.slice(1, -1);
        }
      }
      return t.slice(1, -1);
    }
  }
  return t;
}
