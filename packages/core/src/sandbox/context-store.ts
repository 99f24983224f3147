import { MIN_TEXT_CHUNK_CHARS } from "../limits.js";
import type { ContextPath, TextAccessDelta, Utf8Result } from "./protocol.js";
import { runWithTimeLimit, TimeLimitError } from "./run-with-time-limit.js";

/** Where a sandbox's `Text` methods run: a `ContextStore` in the same thread, or one across a channel. */
export interface TextSource {
  /** JSON of the context with host-backed strings replaced by `{ "$rlmText": id, "length": n }`. */
  readonly skeletonJSON: string;
  /**
   * Runs one `Text` method. `timeLimitMs` bounds regex operations. Throws guest-visible errors. A long string may come
   * as UTF-8 from another thread.
   */
  op(id: number, op: string, args: unknown[], timeLimitMs: number): TextOpResult | Utf8Result;
  /** Reads since the last call, and resets the count. */
  takeAccess(): TextAccessDelta[];
  /**
   * The string of a text that only this source holds (a piece made here while the caller's store has only the
   * context's own texts), counted as read; `undefined` for a text the caller's store can resolve itself.
   */
  ownText(id: number): string | undefined;
}

export type TextOpResult = string | number | boolean | undefined;

/**
 * Holds the run's `context` natively (in V8, not QuickJS). Strings of at least `minChars` characters stay here, by
 * reference, and reach QuickJS as `Text` objects whose methods run here; everything else is sent in as a JSON
 * skeleton and materialised inside QuickJS. Results are capped by what the sandbox could hold anyway
 * (`maxResultChars` characters, `maxItems` items), checked before anything larger than the text is built, so no
 * method can make this thread allocate more than a small multiple of the text. See docs/decisions/0002.
 */
export class ContextStore implements TextSource {
  private readonly texts: string[] = [];
  /** Where each text sits in the context (a piece of a text: where its text sits). */
  readonly paths: ContextPath[] = [];
  /** The context's own text each text is, or is a piece of (reads of a piece count as reads of it). */
  private readonly roots: number[] = [];
  /** How many of the texts are the context's own (the rest are pieces). */
  private readonly rootCount: number;
  /** Most pieces (see `chunks`) a sandbox keeps: four chunkings of all its texts at the smallest step. */
  private readonly maxPieces: number;
  /** Pieces already made, by text, size and overlap. */
  private readonly chunkRefs = new Map<string, Array<{ $rlmText: number; length: number }>>();
  private readonly access = new Map<number, TextAccessDelta>();
  private readonly regexCache = new Map<string, RegExp>();
  /** How many items the last list result had (see `list`): counted without parsing the JSON again. */
  private lastListItems = 0;
  /** Whether the last list result was references to texts held here (no characters read yet). */
  private lastListRefs = false;
  /** JSON of the context with host-backed strings replaced by `{ "$rlmText": id, "length": n }`. */
  readonly skeletonJSON: string;

  /** Most items an array result may have (each costs QuickJS at least ~64 bytes). */
  private readonly maxItems: number;

  /** `maxResultChars`: the longest string result, and the budget for array results; the sandbox's memory limit. */
  constructor(
    context: unknown,
    minChars: number,
    keys: string[],
    private readonly maxResultChars: number,
  ) {
    this.maxItems = Math.max(1_000, Math.floor(maxResultChars / 64));
    this.skeletonJSON = JSON.stringify(this.extract(context, { minChars, keys: new Set(keys) }, []));
    this.rootCount = this.texts.length;
    let fullChunkings = 0;
    for (const t of this.texts) fullChunkings += Math.ceil(t.length / MIN_TEXT_CHUNK_CHARS);
    this.maxPieces = 1_000 + 4 * fullChunkings;
  }

  /**
   * The string behind a `{ $rlmText: id }` reference that guest code passed to a sub-call or tool (counted as a read
   * of all of it).
   */
  text(id: number): string {
    const text = this.texts[id];
    if (text === undefined) throw new RangeError(`unknown text #${id}`);
    this.record(id, "all", text);
    return text;
  }

  ownText(id: number): string | undefined {
    return this.roots[id] === id ? undefined : this.text(id);
  }

  /** Reads since the last call, and resets the count. */
  takeAccess(): TextAccessDelta[] {
    const deltas = [...this.access.values()];
    this.access.clear();
    return deltas;
  }

  /** Holds `text` (a string of the context, or a piece of one) and returns its reference for the guest. */
  private add(text: string, path: ContextPath, root: number): { $rlmText: number; length: number } {
    this.texts.push(text);
    this.paths.push(path);
    this.roots.push(root);
    return { $rlmText: this.texts.length - 1, length: text.length };
  }

  private extract(value: unknown, rule: { minChars: number; keys: Set<string> }, path: ContextPath): unknown {
    if (typeof value === "string") {
      const key = path[path.length - 1];
      if (value.length < rule.minChars && !(typeof key === "string" && rule.keys.has(key))) return value;
      return this.add(value, path, this.texts.length);
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
    const root = this.roots[id] ?? id;
    let entry = this.access.get(root);
    if (entry === undefined) {
      entry = [root, 0, 0, 0];
      this.access.set(root, entry);
    }
    entry[3]++;
    if (typeof result === "string") {
      if (op === "match" || op === "matchAll" || op === "grep" || op === "split" || op === "chunks") {
        const count = this.lastListItems;
        entry[2] += op === "split" || op === "chunks" ? 0 : count;
        // Chunks sent as references are read when they are used (as pieces' own texts, see `roots`).
        if (count > 0 && !this.lastListRefs) entry[1] += result.length;
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

  /**
   * Runs one `Text` method natively. Arguments are primitives from the guest. A method given a regular expression
   * runs under `timeLimitMs` (what is left of the cell's CPU budget): a catastrophic pattern is stopped with a
   * `TimeoutError` instead of hanging this thread. Throws guest-visible errors.
   */
  op(id: number, op: string, args: unknown[], timeLimitMs: number): TextOpResult {
    const text = this.texts[id];
    if (text === undefined) throw new RangeError(`unknown text #${id}`);
    let result: TextOpResult;
    if (args[0] === "re" && PATTERN_OPS.has(op)) {
      try {
        result = runWithTimeLimit(() => this.run(id, text, op, args), timeLimitMs);
      } catch (error) {
        if (!(error instanceof TimeLimitError)) throw error;
        throw timeoutError(op, text.length, timeLimitMs);
      }
    } else {
      result = this.run(id, text, op, args);
    }
    this.record(id, op, result);
    return result;
  }

  private run(id: number, text: string, op: string, args: unknown[]): TextOpResult {
    const result = this.compute(id, text, op, args);
    // A string result crosses into the worker and then QuickJS: refuse one that could not fit there anyway.
    if (typeof result === "string" && result.length > this.maxResultChars) {
      throw new RangeError(
        `${op}: the result would be ${result.length} characters, more than the sandbox can hold (sandbox.memoryLimitBytes = ${this.maxResultChars}); work on slices of it`,
      );
    }
    return result;
  }

  private compute(id: number, text: string, op: string, args: unknown[]): TextOpResult {
    if (WHOLE_TEXT_OPS.has(op) && text.length > this.maxResultChars) {
      throw new RangeError(
        `${op === "splitWhole" ? "split" : op}: the text has ${text.length} characters, more than the sandbox can hold (sandbox.memoryLimitBytes = ${this.maxResultChars}); work on slices of it`,
      );
    }
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
        return this.list(this.match(text, this.pattern(args, "")));
      case "matchAll":
        return this.list(this.matchAll(text, this.pattern(args, "g"), "matchAll").map(toMatchJSON));
      case "replace":
      case "replaceAll": {
        const re = this.pattern(args, op === "replaceAll" ? "g" : "");
        const replacement = String(args[3]);
        this.checkReplaceSize(text, re, replacement, op);
        return op === "replace" ? text.replace(re, replacement) : text.replaceAll(re, replacement);
      }
      case "split": {
        const wanted = args[3] === undefined || args[3] === null ? undefined : Number(args[3]) >>> 0;
        const separator = args[0] === "re" ? this.pattern(args, "") : String(args[1]);
        const pieces = text.split(separator, Math.min(wanted ?? this.maxItems + 1, this.maxItems + 1));
        if (pieces.length > this.maxItems) throw this.tooMany("split", "pieces", "pass a limit, or use grep/chunks");
        return this.list(pieces);
      }
      case "splitWhole": {
        // split(separator) with a string separator and no limit, done by the guest: QuickJS splits natively far
        // faster than it parses the pieces as JSON. Here: the same limit on pieces, then the whole text.
        const separator = String(args[0]);
        let pieces = 1;
        if (separator === "") pieces = text.length;
        else
          for (let i = text.indexOf(separator); i !== -1 && pieces <= this.maxItems; ) {
            pieces++;
            i = text.indexOf(separator, i + separator.length);
          }
        if (pieces > this.maxItems) throw this.tooMany("split", "pieces", "pass a limit, or use grep/chunks");
        return text;
      }
      case "grep":
        return this.list(this.grep(text, this.pattern(args, ""), args[3]));
      case "chunks": {
        const pieces = this.chunks(id, text, args[0], args[1]);
        return this.list(pieces, pieces.length > 0 && typeof pieces[0] !== "string");
      }
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

  /**
   * A text's chunks. When chunks start at least `MIN_TEXT_CHUNK_CHARS` apart they are held here as texts of their own
   * (V8 slices share the text's memory) and sent to the guest as references: nothing is copied until guest code reads
   * a piece, and a piece handed to a sub-call goes as the string held here. The same chunks asked for again are the
   * same pieces, and a sandbox's pieces are capped at a few full chunkings of its texts (`maxPieces`), so they cost
   * this thread a small multiple of the texts' own size at most. Closer chunks are plain strings, like an array result.
   */
  private chunks(
    id: number,
    text: string,
    size: unknown,
    overlap: unknown,
  ): string[] | Array<{ $rlmText: number; length: number }> {
    const sizeChars = Math.floor(Number(size));
    const step = sizeChars - (typeof overlap === "number" && overlap > 0 ? Math.floor(overlap) : 0);
    const key = `${id}:${sizeChars}:${step}`;
    // Only valid arguments ever made an entry (a size given as a string is refused by chunk(), as before).
    const known = typeof size === "number" ? this.chunkRefs.get(key) : undefined;
    if (known !== undefined) return known;
    const pieces = chunk(text, size, overlap, this.maxItems);
    if (step < MIN_TEXT_CHUNK_CHARS) {
      // Plain strings for the guest: overlapping chunks can add up to far more than the text (checked before the JSON).
      let chars = 0;
      for (const piece of pieces) chars += piece.length;
      if (chars > this.maxResultChars)
        throw new RangeError(
          `chunks: the result would be ${chars} characters, more than the sandbox can hold (sandbox.memoryLimitBytes = ${this.maxResultChars}); use less overlap`,
        );
      return pieces;
    }
    if (this.texts.length - this.rootCount + pieces.length > this.maxPieces)
      throw new RangeError(
        `chunks: more than ${this.maxPieces} pieces in all, more than this sandbox keeps; reuse the chunks you have, or use larger chunks`,
      );
    const root = this.roots[id] ?? id;
    const refs = pieces.map((piece) => this.add(piece, this.paths[id] ?? [], root));
    this.chunkRefs.set(key, refs);
    return refs;
  }

  /** A list result (an array, a match object or null) as the JSON the guest parses. */
  private list(value: unknown, references = false): string {
    this.lastListItems = Array.isArray(value) ? value.length : value === null ? 0 : 1;
    this.lastListRefs = references;
    return JSON.stringify(value);
  }

  private match(text: string, re: RegExp): null | { all: string[] } | { one: MatchJSON } {
    if (re.global) {
      const all = this.matchAll(text, re, "match").map((m) => m[0]);
      return all.length === 0 ? null : { all };
    }
    const m = re.exec(text);
    return m === null ? null : { one: toMatchJSON(m) };
  }

  /** Every match of a global regex, at most `maxItems` of them. */
  private matchAll(text: string, re: RegExp, op: string): RegExpExecArray[] {
    const found: RegExpExecArray[] = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (found.length === this.maxItems) throw this.tooMany(op, "matches", "use count, grep, or a narrower pattern");
      found.push(m);
      if (m[0].length === 0) re.lastIndex = advance(text, re.lastIndex, re.unicode || re.flags.includes("v"));
    }
    return found;
  }

  /** Refuses a replacement whose result could not fit in the sandbox, before building it. */
  /**
   * Refuses a replacement whose result could not fit in the sandbox, before building it. The bound counts what each
   * replacement pattern can insert: `` $` `` and `$'` up to the whole text per match, `$&` and `$n` up to the match.
   */
  private checkReplaceSize(text: string, re: RegExp, replacement: string, op: string): void {
    let wholeText = 0;
    let matchSized = 0;
    for (const token of replacement.match(/\$(?:[&`']|\d{1,2}|<[^>]*>)/g) ?? []) {
      if (token === "$`" || token === "$'") wholeText++;
      else matchSized++;
    }
    const bound = (matches: number) =>
      text.length * (1 + matchSized) + matches * (replacement.length + wholeText * text.length);
    if (bound(re.global ? text.length + 1 : 1) <= this.maxResultChars) return; // even at one match per character
    const matches = re.global ? this.count(text, re) : 1;
    if (bound(matches) > this.maxResultChars) {
      throw new RangeError(
        `${op}: the result could be ${bound(matches)} characters long, more than the sandbox can hold (sandbox.memoryLimitBytes = ${this.maxResultChars}); replace within slices instead`,
      );
    }
  }

  private tooMany(op: string, what: string, hint: string): RangeError {
    return new RangeError(
      `${op}: more than ${this.maxItems} ${what}, more than the sandbox can hold (sandbox.memoryLimitBytes = ${this.maxResultChars}); ${hint}`,
    );
  }

  private count(text: string, re: RegExp): number {
    let n = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      n++;
      if (!re.global) break;
      if (m[0].length === 0) re.lastIndex = advance(text, re.lastIndex, re.unicode || re.flags.includes("v"));
    }
    return n;
  }

  private grep(text: string, re: RegExp, options: unknown): GrepHit[] {
    const opts = (typeof options === "object" && options !== null ? options : {}) as {
      context?: unknown;
      max?: unknown;
    };
    const around = typeof opts.context === "number" && opts.context > 0 ? Math.floor(opts.context) : 0;
    const max = Math.min(typeof opts.max === "number" && opts.max > 0 ? Math.floor(opts.max) : 1000, this.maxItems);
    const lineRe = new RegExp(re.source, re.flags.replace(/[gy]/g, ""));
    const hits: GrepHit[] = [];
    let chars = 0;
    let start = 0;
    let lineNumber = 1;
    while (start <= text.length && hits.length < max) {
      let end = text.indexOf("\n", start);
      if (end === -1) end = text.length;
      const line = text.slice(start, end);
      if (lineRe.test(line)) {
        const hit: GrepHit = { line: lineNumber, index: start, text: line };
        chars += line.length;
        if (around > 0) {
          const from = Math.max(0, start - around);
          hit.context = text.slice(from, Math.min(text.length, end + around));
          chars += hit.context.length;
        }
        if (chars > this.maxResultChars) {
          throw new RangeError(
            `grep: the hits come to more than ${this.maxResultChars} characters, more than the sandbox can hold (sandbox.memoryLimitBytes); ask for fewer (max) or less context`,
          );
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

/** Methods whose result is about as long as the whole text: checked before they allocate it. */
const WHOLE_TEXT_OPS = new Set([
  "all",
  "splitWhole",
  "toLowerCase",
  "toUpperCase",
  "normalize",
  "trim",
  "trimStart",
  "trimEnd",
]);

/** Regex-taking methods: with a `["re", source, flags]` pattern they run under a time limit. */
const PATTERN_OPS = new Set(["search", "count", "match", "matchAll", "replace", "replaceAll", "split", "grep"]);

/** Past an empty match, as `String.prototype.matchAll` does (a whole code point in unicode mode). */
function advance(text: string, index: number, unicode: boolean): number {
  if (!unicode || index + 1 >= text.length) return index + 1;
  const lead = text.charCodeAt(index);
  const trail = text.charCodeAt(index + 1);
  return lead >= 0xd800 && lead <= 0xdbff && trail >= 0xdc00 && trail <= 0xdfff ? index + 2 : index + 1;
}

function timeoutError(op: string, chars: number, timeLimitMs: number): Error {
  const error = new Error(
    `${op}: the regular expression ran for ${Math.ceil(timeLimitMs)} ms over ${chars} characters, the rest of this cell's CPU budget (sandbox.stepTimeoutMs), and was stopped; catastrophic backtracking? Use a simpler pattern, or search slices.`,
  );
  error.name = "TimeoutError";
  return error;
}

function chunk(text: string, size: unknown, overlap: unknown, maxItems: number): string[] {
  if (typeof size !== "number" || !Number.isFinite(size) || size < 1) {
    throw new RangeError("chunks(sizeChars, overlapChars?): sizeChars must be a positive number");
  }
  const step = Math.floor(size) - (typeof overlap === "number" && overlap > 0 ? Math.floor(overlap) : 0);
  if (step < 1) throw new RangeError("chunks(sizeChars, overlapChars?): overlapChars must be smaller than sizeChars");
  if (text.length / step > maxItems) {
    throw new RangeError(`chunks: more than ${maxItems} chunks, more than the sandbox can hold; use larger chunks`);
  }
  const out: string[] = [];
  for (let i = 0; i < text.length; i += step) {
    out.push(text.slice(i, i + Math.floor(size)));
    if (i + size >= text.length) break;
  }
  return out;
}
