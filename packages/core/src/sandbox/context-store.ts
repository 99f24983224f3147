import type { ContextPath, TextAccessDelta } from "./protocol.js";

/**
 * Holds the run's `context` in the sandbox worker's own (V8) memory. Strings of at least `minChars` characters stay
 * here and reach QuickJS as host-backed `Text` objects whose methods run natively; everything else is sent in as a
 * JSON skeleton and materialised inside QuickJS. See docs/decisions/0002-context-handling.md.
 */
export class ContextStore {
  private readonly texts: string[] = [];
  /** Where each text sits in the context. */
  readonly paths: ContextPath[] = [];
  private readonly access = new Map<number, TextAccessDelta>();
  private readonly regexCache = new Map<string, RegExp>();
  /** JSON of the context with host-backed strings replaced by `{ "$rlmText": id, "length": n }`. */
  readonly skeletonJSON: string;

  constructor(context: unknown, minChars: number, keys: string[] = []) {
    this.skeletonJSON = JSON.stringify(this.extract(context, { minChars, keys: new Set(keys) }, []));
  }

  /** Reads since the last call, and resets the count. */
  takeAccess(): TextAccessDelta[] {
    const deltas = [...this.access.values()];
    this.access.clear();
    return deltas;
  }

  private extract(value: unknown, rule: { minChars: number; keys: Set<string> }, path: ContextPath): unknown {
    if (typeof value === "string") {
      const key = path[path.length - 1];
      if (value.length < rule.minChars && !(typeof key === "string" && rule.keys.has(key))) return value;
      this.texts.push(value);
      this.paths.push(path);
      return { $rlmText: this.texts.length - 1, length: value.length };
    }
    if (Array.isArray(value)) return value.map((v, i) => this.extract(v, rule, [...path, i]));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.extract(v, rule, [...path, k]);
      return out;
    }
    return value;
  }

  /** Counts what an operation gave the sandbox: characters returned, matches found. */
  private record(id: number, op: string, result: string | number | boolean | undefined): void {
    let entry = this.access.get(id);
    if (entry === undefined) {
      entry = [id, 0, 0, 0];
      this.access.set(id, entry);
    }
    entry[3]++;
    if (typeof result === "string") {
      if (op === "match" || op === "matchAll" || op === "grep" || op === "split" || op === "chunks") {
        const found = JSON.parse(result) as unknown;
        const count = Array.isArray(found) ? found.length : found === null ? 0 : 1;
        entry[2] += op === "split" || op === "chunks" ? 0 : count;
        if (count > 0) entry[1] += result.length;
      } else {
        entry[1] += result.length;
      }
    } else if (typeof result === "number") {
      if (
        op === "count" ? result > 0 : op === "search" || op === "indexOf" || op === "lastIndexOf" ? result >= 0 : false
      )
        entry[2]++;
    } else if (result === true) {
      entry[2]++;
    }
  }

  /** Runs one `Text` method natively. Arguments are primitives from the guest. Throws guest-visible errors. */
  op(id: number, op: string, args: unknown[]): string | number | boolean | undefined {
    const result = this.run(id, op, args);
    this.record(id, op, result);
    return result;
  }

  private run(id: number, op: string, args: unknown[]): string | number | boolean | undefined {
    const text = this.texts[id];
    if (text === undefined) throw new RangeError(`unknown text #${id}`);
    switch (op) {
      case "all":
        return text;
      case "slice":
      case "substring":
      case "substr":
      case "charAt":
      case "charCodeAt":
      case "codePointAt":
      case "at":
      case "indexOf":
      case "lastIndexOf":
      case "includes":
      case "startsWith":
      case "endsWith":
      case "toLowerCase":
      case "toUpperCase":
      case "trim":
      case "trimStart":
      case "trimEnd":
      case "normalize": {
        const method = String.prototype[op] as (...a: unknown[]) => string | number | boolean | undefined;
        return method.apply(text, args);
      }
      case "search":
        return text.search(this.pattern(args, ""));
      case "count":
        return this.count(text, this.pattern(args, "g"));
      case "match":
        return JSON.stringify(this.match(text, this.pattern(args, "")));
      case "matchAll":
        return JSON.stringify(Array.from(text.matchAll(this.pattern(args, "g")), toMatchJSON));
      case "replace":
        return text.replace(this.pattern(args, ""), String(args[3]));
      case "replaceAll":
        return text.replaceAll(this.pattern(args, "g"), String(args[3]));
      case "split": {
        const limit = args[3] === undefined || args[3] === null ? undefined : Number(args[3]);
        const separator = args[0] === "re" ? this.pattern(args, "") : String(args[1]);
        return JSON.stringify(text.split(separator, limit));
      }
      case "grep":
        return JSON.stringify(this.grep(text, this.pattern(args, ""), args[3]));
      case "chunks":
        return JSON.stringify(chunk(text, args[0], args[1]));
      default:
        throw new TypeError(`Text has no method "${op}"`);
    }
  }

  /** Builds (and caches) the native RegExp for a guest pattern `[kind, source, flags]`. */
  private pattern(args: unknown[], requiredFlags: string): RegExp {
    const [kind, source, flags] = args as [string, string, string];
    if (kind === "str") {
      const escaped = source.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return this.regex(escaped, requiredFlags);
    }
    const allFlags = requiredFlags && !flags.includes(requiredFlags) ? flags + requiredFlags : flags;
    const re = this.regex(source, allFlags);
    re.lastIndex = 0;
    return re;
  }

  private regex(source: string, flags: string): RegExp {
    const key = `${flags}/${source}`;
    let re = this.regexCache.get(key);
    if (re === undefined) {
      re = new RegExp(source, flags);
      if (this.regexCache.size > 64) this.regexCache.clear();
      this.regexCache.set(key, re);
    }
    return re;
  }

  private match(text: string, re: RegExp): null | { all: string[] } | { one: MatchJSON } {
    if (re.global) {
      const all = text.match(re);
      return all === null ? null : { all: Array.from(all) };
    }
    const m = re.exec(text);
    return m === null ? null : { one: toMatchJSON(m) };
  }

  private count(text: string, re: RegExp): number {
    let n = 0;
    re.lastIndex = 0;
    while (re.exec(text) !== null) {
      n++;
      if (re.lastIndex === 0) break;
    }
    return n;
  }

  private grep(text: string, re: RegExp, options: unknown): GrepHit[] {
    const opts = (typeof options === "object" && options !== null ? options : {}) as {
      context?: unknown;
      max?: unknown;
    };
    const around = typeof opts.context === "number" && opts.context > 0 ? Math.floor(opts.context) : 0;
    const max = typeof opts.max === "number" && opts.max > 0 ? Math.floor(opts.max) : 1000;
    const lineRe = new RegExp(re.source, re.flags.replace(/[gy]/g, ""));
    const hits: GrepHit[] = [];
    let start = 0;
    let lineNumber = 1;
    while (start <= text.length && hits.length < max) {
      let end = text.indexOf("\n", start);
      if (end === -1) end = text.length;
      const line = text.slice(start, end);
      if (lineRe.test(line)) {
        const hit: GrepHit = { line: lineNumber, index: start, text: line };
        if (around > 0) {
          const from = Math.max(0, start - around);
          hit.context = text.slice(from, Math.min(text.length, end + around));
        }
        hits.push(hit);
      }
      start = end + 1;
      lineNumber++;
    }
    return hits;
  }
}

type MatchJSON = [string[], number, Record<string, string> | null];
interface GrepHit {
  line: number;
  index: number;
  text: string;
  context?: string;
}

function toMatchJSON(m: RegExpMatchArray | RegExpExecArray): MatchJSON {
  return [Array.from(m, (s) => s ?? null) as string[], m.index ?? 0, m.groups ? { ...m.groups } : null];
}

function chunk(text: string, size: unknown, overlap: unknown): string[] {
  if (typeof size !== "number" || !Number.isFinite(size) || size < 1) {
    throw new RangeError("chunks(sizeChars, overlapChars?): sizeChars must be a positive number");
  }
  const step = Math.floor(size) - (typeof overlap === "number" && overlap > 0 ? Math.floor(overlap) : 0);
  if (step < 1) throw new RangeError("chunks(sizeChars, overlapChars?): overlapChars must be smaller than sizeChars");
  const out: string[] = [];
  for (let i = 0; i < text.length; i += step) {
    out.push(text.slice(i, i + Math.floor(size)));
    if (i + size >= text.length) break;
  }
  return out;
}
