/**
 * Hostile and broken programs, each run through the real loop as a model's code cell. For every one: the host
 * survives, the model sees a clear outcome, and the run goes on (a second cell checks that the REPL's API still
 * works and answers).
 */
import { describe, expect, it } from "vitest";
import { createRLM } from "../engine/create-rlm.js";
import { codeReply, createScriptedModel } from "../test/index.js";
import type { CellTrace } from "../trajectory/trajectory-types.js";

type Family =
  | "escape"
  | "overwrite"
  | "loop"
  | "memory"
  | "stack"
  | "flood"
  | "never-settles"
  | "throw"
  | "final"
  | "fan-out"
  | "unicode";

interface Case {
  family: Family;
  name: string;
  code: string;
  /** Checks the hostile cell as the model saw it. */
  expectCell: (cell: CellTrace) => void;
  /** The run ends in the hostile cell itself (a FINAL that works). */
  endsRun?: (answer: string) => void;
  context?: string;
  settings?: { stepTimeoutMs?: number; memoryLimitBytes?: number; maxLLMCalls?: number; copyContextToWorker?: boolean };
}

const errorNamed = (name: string | RegExp, message?: RegExp) => (cell: CellTrace) => {
  expect(cell.error?.name).toMatch(name);
  if (message) expect(cell.error?.message).toMatch(message);
};
const printed = (pattern: RegExp | string) => (cell: CellTrace) => {
  expect(cell.error).toBeUndefined();
  expect(cell.output).toMatch(pattern);
};
const anyError = (cell: CellTrace) => expect(cell.error).toBeDefined();

const LOOP = { stepTimeoutMs: 300 };
const SMALL_MEMORY = { memoryLimitBytes: 32 * 1024 * 1024, stepTimeoutMs: 5_000 };

const corpus: Case[] = [
  // --- escape attempts ------------------------------------------------------------------------------------------
  { family: "escape", name: "process", code: "print(typeof process)", expectCell: printed(/^undefined/) },
  { family: "escape", name: "require", code: "print(typeof require)", expectCell: printed(/^undefined/) },
  { family: "escape", name: "dynamic import", code: "await import('node:fs')", expectCell: anyError },
  {
    family: "escape",
    name: "fetch",
    code: "print(typeof fetch, typeof XMLHttpRequest, typeof WebSocket)",
    expectCell: printed(/^undefined undefined undefined/),
  },
  {
    family: "escape",
    name: "Function constructor",
    code: "print(typeof new Function('return this')().process)",
    expectCell: printed(/^undefined/),
  },
  {
    family: "escape",
    name: "constructor chain",
    code: "constructor.constructor('return process')()",
    expectCell: errorNamed("ReferenceError", /process/),
  },
  {
    family: "escape",
    name: "API function's constructor",
    code: "const g = llm_query.constructor('return this')(); print(typeof g.process, typeof g.require)",
    expectCell: printed(/^undefined undefined/),
  },
  {
    family: "escape",
    name: "QuickJS std/os modules",
    code: "print(typeof std, typeof os, typeof scriptArgs)",
    expectCell: printed(/^undefined undefined undefined/),
  },
  {
    family: "escape",
    name: "host object not reachable",
    code: "print(Object.getOwnPropertyNames(globalThis).filter(n => /host|__/.test(n)).join(',') || 'none')",
    expectCell: printed(/^none/),
  },
  {
    family: "escape",
    name: "timers do not exist",
    code: "print(typeof setTimeout, typeof setInterval, typeof queueMicrotask)",
    expectCell: printed(/^undefined undefined/),
  },
  { family: "escape", name: "eval of host names", code: "eval('typeof process')", expectCell: printed(/undefined/) },
  {
    family: "escape",
    name: "prototype pollution of Object",
    code: "Object.prototype.polluted = 'yes'; Object.prototype.toString = () => 'hacked'; print(({}).polluted)",
    expectCell: printed(/^yes/),
  },
  {
    family: "escape",
    name: "pollution of Array methods",
    code: "Array.prototype.map = () => 'x'; Array.prototype.join = () => 'x'; Array.prototype.push = () => 0; print([1, 2])",
    expectCell: printed(/\[1, 2\]/),
  },
  {
    family: "escape",
    name: "JSON replaced",
    code: "JSON.stringify = () => 'hacked'; JSON.parse = () => ({}); print({ a: 1 })",
    expectCell: printed(/"a": 1/),
  },
  {
    family: "escape",
    name: "Promise.prototype.then replaced",
    code: "Promise.prototype.then = function () { throw new Error('nope') }; print('set')",
    expectCell: printed(/^set/),
  },
  {
    family: "escape",
    name: "String methods replaced",
    code: "String.prototype.slice = null; String.prototype.indexOf = null; print('set')",
    expectCell: printed(/^set/),
  },
  {
    family: "escape",
    name: "Symbol.hasInstance on Function.prototype",
    code: "Object.defineProperty(Function.prototype, Symbol.hasInstance, { value: () => true })",
    expectCell: errorNamed("TypeError"),
  },
  {
    family: "escape",
    name: "Text prototype is frozen",
    code: "'use strict'; Text.prototype.slice = () => 'fake'",
    expectCell: errorNamed("TypeError"),
  },

  // --- overwriting or deleting the API -------------------------------------------------------------------------
  {
    family: "overwrite",
    name: "assign llm_query (sloppy)",
    code: "llm_query = async () => 'fake'; print(typeof llm_query)",
    expectCell: printed(/^function/),
  },
  {
    family: "overwrite",
    name: "assign FINAL (strict)",
    code: "'use strict'; FINAL = 1",
    expectCell: errorNamed("TypeError"),
  },
  { family: "overwrite", name: "delete FINAL", code: "print(delete globalThis.FINAL)", expectCell: printed(/^false/) },
  {
    family: "overwrite",
    name: "var redeclaration",
    code: "var FINAL_VAR = 5; print(typeof FINAL_VAR)",
    expectCell: printed(/^function/),
  },
  {
    family: "overwrite",
    name: "function redeclaration",
    code: "function FINAL() { return 'mine' }",
    expectCell: errorNamed("TypeError"),
  },
  {
    family: "overwrite",
    name: "const context shadowing",
    code: "const context = 'mine'; print(context.length)",
    expectCell: printed(/^11/),
    context: "the context",
  },
  {
    family: "overwrite",
    name: "console replaced",
    code: "console = null; console.log = null; print(typeof console.log)",
    expectCell: printed(/^function/),
  },
  {
    family: "overwrite",
    name: "defineProperty on the API",
    code: "Object.defineProperty(globalThis, 'llm_query', { value: 1 })",
    expectCell: errorNamed("TypeError"),
  },
  {
    family: "overwrite",
    name: "class shadowing",
    code: "class llm_query_batched {}; print(typeof llm_query_batched)",
    expectCell: printed(/^function/),
  },
  {
    family: "overwrite",
    name: "print deleted",
    code: "delete globalThis.print; globalThis.print = null; print('still here')",
    expectCell: printed(/^still here/),
  },

  // --- infinite loops ---------------------------------------------------------------------------------------------
  {
    family: "loop",
    name: "while(true)",
    code: "while (true) {}",
    expectCell: errorNamed("TimeoutError", /stepTimeoutMs/),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "for(;;) with work",
    code: "let n = 0; for (;;) { n = (n + 1) % 7 }",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "in an async function",
    code: "async function spin() { while (true) {} }\nawait spin()",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "in a promise chain",
    code: "await Promise.resolve().then(() => { while (true) {} })",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "in a getter",
    code: "const o = { get x() { while (true) {} } }; o.x",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "endless microtasks",
    code: "const again = () => Promise.resolve().then(again); await again()",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "catching the interrupt",
    code: "while (true) { try { while (true) {} } catch (e) {} }",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "after an await",
    code: "await llm_query('warm up'); while (true) {}",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "catastrophic regex in QuickJS",
    code: "/(a+)+$/.test('a'.repeat(40) + 'b')",
    expectCell: errorNamed("TimeoutError"),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "catastrophic regex on host-backed text, caught and retried",
    code: "var kept = 1; for (;;) { try { context.search(/(a+)+$/) } catch (e) { print(e.name) } }",
    context: `${"a".repeat(200_000)}b`,
    expectCell: (cell) => {
      expect(cell.error?.name).toBe("TimeoutError");
      expect(cell.sandboxReset).toBe(false);
    },
    settings: LOOP,
  },
  {
    family: "loop",
    name: "catastrophic regex with a backreference on host-backed text",
    code: "context.match(/(a*)*\\1b/)",
    context: "a".repeat(200_000),
    expectCell: errorNamed("TimeoutError", /regular expression/),
    settings: LOOP,
  },
  {
    family: "loop",
    name: "catastrophic regex on a context copied into the worker",
    code: "context.search(/(a+)+$/)",
    context: `${"a".repeat(200_000)}b`,
    expectCell: (cell) => {
      expect(cell.error?.name).toBe("TimeoutError");
      expect(cell.sandboxReset).toBe(false);
    },
    settings: { ...LOOP, copyContextToWorker: true },
  },

  {
    family: "overwrite",
    name: "setters on Array.prototype indices and toJSON on every object",
    code: "Object.defineProperty(Array.prototype, 0, { set() {}, configurable: true }); Object.defineProperty(Array.prototype, 1, { set() {}, configurable: true }); Array.prototype.toJSON = () => 5; Object.prototype.toJSON = () => 7\nconst r = await llm_query_batched(['a', 'b']); r.length + ':' + r[0] + ':' + (await llm_query('c'))",
    expectCell: printed("2:pong:pong"),
  },
  {
    family: "overwrite",
    name: "giving the context its own toString",
    code: "let out = 'defined'; try { Object.defineProperty(context, 'toString', { value: () => ({ not: 'a string' }) }) } catch (e) { out = e.name }\nout + ' ' + typeof String(context)",
    context: "x".repeat(200_000),
    expectCell: printed("TypeError string"),
  },
  {
    family: "overwrite",
    name: "a forged Text passed to a sub-call",
    code: "const fake = Object.create(Object.getPrototypeOf(context)); let out; try { out = await llm_query(fake) } catch (e) { out = e.name } [out, Object.getOwnPropertySymbols(context).length].join()",
    context: "x".repeat(200_000),
    // Text methods refuse it (its identity lives in the prelude, not on the object); nothing reaches the host.
    expectCell: printed("TypeError,0"),
  },

  // --- memory bombs -------------------------------------------------------------------------------------------------
  {
    family: "memory",
    name: "string doubling",
    code: "let s = 'x'; while (true) s += s",
    expectCell: anyError,
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "huge arrays",
    code: "const a = []; while (true) a.push(new Array(1e5).fill(1))",
    expectCell: anyError,
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "deep objects",
    code: "(() => { let o = {}; for (let i = 0; ; i++) o = { o, i } })()",
    expectCell: anyError,
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "giant ArrayBuffer",
    code: "new ArrayBuffer(2 ** 31)",
    expectCell: anyError,
    settings: SMALL_MEMORY,
  },
  { family: "memory", name: "giant repeat", code: "'x'.repeat(2 ** 29)", expectCell: anyError, settings: SMALL_MEMORY },
  {
    family: "memory",
    name: "giant filled array",
    code: "Array(1e9).fill(0)",
    expectCell: anyError,
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "a global keeps its garbage",
    code: "var keep = []; try { while (true) keep.push('y'.repeat(4e6) + keep.length) } catch (e) { print('caught', e.message) }\nkeep = null",
    expectCell: (cell) => expect(cell.output).toMatch(/^caught out of memory/),
    settings: { memoryLimitBytes: 32 * 1024 * 1024, stepTimeoutMs: 2_000 },
  },
  {
    family: "memory",
    name: "2 GB in strings each far under the limit, kept in a constant",
    // QuickJS's own limit checks single allocations only (under emscripten): the heap itself is capped. The heap
    // stays full of what the cell kept, and the next cell still runs (the reserve, see heap-cap.ts).
    code: "const keep = []; try { for (let i = 0; i < 2000; i++) keep.push('y'.repeat(1e6) + i) } catch (e) { print('caught', e.message) }\nprint(keep.length)",
    expectCell: (cell) => {
      const [, kept] = /^caught out of memory\n(\d+)/.exec(cell.output) ?? [];
      expect(Number(kept)).toBeGreaterThan(20);
      expect(Number(kept)).toBeLessThan(45);
    },
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "ten million small objects",
    code: "const objs = []; for (let i = 0; i < 1e7; i++) objs.push({ i })",
    expectCell: errorNamed("InternalError", /^out of memory: the sandbox may hold sandbox.memoryLimitBytes = 33554432/),
    settings: SMALL_MEMORY,
  },

  {
    family: "memory",
    name: "200 one-million-character prompts queued in one slice",
    // What the calls of one slice hold must fit when the slice ends (a quarter of the memory limit); the calls made
    // before that still go out.
    code: "let n = 0\ntry { for (; n < 200; n++) llm_query('y'.repeat(1e6) + n) } catch (e) { print('caught', String(e)) }\nprint(n)",
    expectCell: printed(
      /^caught RangeError: llm_query: the calls made since the last await would hold more than 8388608 characters.*\n8\n/,
    ),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "a refused oversized call leaves nothing behind",
    // The call is checked before anything is handed over, so the next ones (the check cell's llm_query) still work.
    code: "try { llm_query('y'.repeat(1e7)) } catch (e) { print('caught', String(e)) }",
    expectCell: printed(/^caught RangeError: llm_query: this call's arguments hold more than 8388608 characters/),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "a batch of 300 three-million-character prompts",
    code: "const s = 'y'.repeat(3e6); const l = []; for (let i = 0; i < 300; i++) l.push(s)\ntry { llm_query_batched(l) } catch (e) { print('caught', String(e)) }",
    expectCell: printed(/^caught RangeError: llm_query_batched: this call's arguments hold more than/),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "prompts from chunks of a context copied into the worker",
    // Such pieces live in the worker and cross as strings: they count at their length.
    code: "let n = 0\ntry { for (const p of context.chunks(2e6, 2e6 - 1000)) { llm_query(p); n++ } } catch (e) { print('caught', String(e)) }\nprint(n)",
    context: "z".repeat(3_000_000),
    expectCell: printed(/^caught RangeError: llm_query: the calls made since the last await would hold .*\n8\n/),
    settings: { memoryLimitBytes: 64 * 1024 * 1024, copyContextToWorker: true, stepTimeoutMs: 5_000 },
  },
  {
    family: "memory",
    name: "splitting the context into characters",
    code: "context.split('')",
    context: "x".repeat(1_000_000),
    expectCell: errorNamed("RangeError", /more than the sandbox can hold/),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "materialising a context larger than the sandbox",
    code: "const all = context.toString(); all.length",
    context: "x".repeat(40 * 1024 * 1024),
    expectCell: errorNamed("RangeError", /more than the sandbox can hold/),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "a replacement that multiplies the context",
    code: "context.replaceAll('x', 'y'.repeat(1000))",
    context: "x".repeat(1_000_000),
    expectCell: errorNamed("RangeError", /more than the sandbox can hold/),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "a replacement that inserts the rest of the text at every match",
    code: "context.replaceAll('a', \"$'\")",
    context: "a".repeat(200_000),
    expectCell: errorNamed("RangeError", /more than the sandbox can hold/),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "grep asking for a megabyte around every line",
    code: "context.grep('x', { context: 1e6, max: 1e9 })",
    context: "x\n".repeat(500_000),
    expectCell: errorNamed("RangeError", /more than the sandbox can hold/),
    settings: SMALL_MEMORY,
  },
  {
    family: "memory",
    name: "every empty match of the context",
    code: "context.match(/(?:)/g)",
    context: "x".repeat(1_000_000),
    expectCell: errorNamed("RangeError", /more than .* matches/),
    settings: SMALL_MEMORY,
  },

  {
    family: "unicode",
    name: "empty matches around lone surrogates in host-backed text",
    code: "context.count(/(?:)/u) + ' ' + context.match(/(?:)/gu).length",
    context: "\ud800a".repeat(60_000),
    expectCell: printed("120001 120001"),
  },

  // --- stack bombs --------------------------------------------------------------------------------------------------
  {
    family: "stack",
    name: "deep recursion",
    code: "function r(n) { return r(n + 1) + 1 }\nr(0)",
    expectCell: errorNamed(/InternalError|RangeError/, /stack/),
  },
  {
    family: "stack",
    name: "arrow self-call",
    code: "const f = () => f(); f()",
    expectCell: errorNamed(/InternalError|RangeError/, /stack/),
  },
  {
    family: "stack",
    name: "nested JSON.stringify",
    code: "let a = []; for (let i = 0; i < 1e5; i++) a = [a]; JSON.stringify(a).length",
    // QuickJS's cycle check makes this quadratic: seconds of CPU before the stack overflows. Either way, an error.
    expectCell: anyError,
    settings: { stepTimeoutMs: 3_000 },
  },
  {
    family: "stack",
    name: "nested JSON.parse",
    code: "JSON.parse('['.repeat(1e5) + ']'.repeat(1e5))",
    expectCell: anyError,
  },
  {
    family: "stack",
    name: "code nested too deeply to parse",
    code: `${"(".repeat(200_000)}1${")".repeat(200_000)}`,
    expectCell: errorNamed("SyntaxError", /stack space to parse/),
  },
  {
    family: "stack",
    name: "async recursion",
    code: "async function r() { return await r() }\nawait r()",
    expectCell: anyError,
  },
  {
    family: "stack",
    name: "proxy get recursion",
    code: "const p = new Proxy({}, { get: (t, k, r) => r[k] }); p.x",
    expectCell: anyError,
  },
  {
    family: "stack",
    name: "recursion caught and retried",
    code: "function r() { try { return r() } catch (e) { return r() } }\nr()",
    expectCell: anyError,
    settings: LOOP,
  },
  {
    family: "stack",
    name: "deep toString",
    code: "let o = { toString() { return String(this.next) } }; o.next = o; String(o)",
    expectCell: anyError,
  },

  // --- output floods -------------------------------------------------------------------------------------------------
  {
    family: "flood",
    name: "100,000 lines",
    code: "for (let i = 0; i < 100000; i++) print('line ' + i)",
    expectCell: (cell) => {
      expect(cell.truncated).toBe(true);
      expect(cell.outputChars).toBeGreaterThan(1_000_000);
      expect(cell.output.length).toBeLessThan(12_000);
      expect(cell.output).toContain("line 99999");
    },
  },
  {
    family: "flood",
    name: "100 MB in one print",
    code: "print('x'.repeat(100 * 1024 * 1024))",
    expectCell: (cell) => {
      expect(cell.truncated).toBe(true);
      expect(cell.outputChars).toBe(100 * 1024 * 1024 + 1);
    },
  },
  {
    family: "flood",
    name: "printing a host-backed context",
    code: "print(context)",
    context: "z".repeat(500_000),
    expectCell: (cell) => {
      expect(cell.truncated).toBe(true);
      expect(cell.outputChars).toBe(500_001);
    },
  },
  {
    family: "flood",
    name: "a huge last expression",
    code: "Array.from({ length: 1e5 }, (_, i) => i)",
    expectCell: printed(/99 more|more items/),
  },

  // --- promises that never settle ------------------------------------------------------------------------------------
  {
    family: "never-settles",
    name: "await new Promise(() => {})",
    code: "await new Promise(() => {})",
    expectCell: errorNamed("DeadlockError"),
  },
  {
    family: "never-settles",
    name: "race of nothing",
    code: "await Promise.race([new Promise(() => {})])",
    expectCell: errorNamed("DeadlockError"),
  },
  {
    family: "never-settles",
    name: "after a real sub-call",
    code: "await llm_query('x').then(() => new Promise(() => {}))",
    expectCell: errorNamed("DeadlockError"),
  },
  {
    family: "never-settles",
    name: "Promise.race([])",
    code: "await Promise.race([])",
    expectCell: errorNamed("DeadlockError"),
  },

  // --- throwing non-Error values ---------------------------------------------------------------------------------------
  {
    family: "throw",
    name: "a number",
    code: "throw 42",
    expectCell: (cell) => expect(cell.error?.message).toContain("42"),
  },
  {
    family: "throw",
    name: "null",
    code: "throw null",
    expectCell: (cell) => expect(cell.error?.message).toContain("null"),
  },
  {
    family: "throw",
    name: "a plain object",
    code: "throw { message: 'plain object thrown' }",
    expectCell: (cell) => expect(cell.error?.message).toContain("plain object thrown"),
  },
  { family: "throw", name: "rejected with undefined", code: "await Promise.reject(undefined)", expectCell: anyError },
  {
    family: "throw",
    name: "an Error with a line number",
    code: "const a = 1;\nconst b = 2;\nthrow new Error('on line three')",
    expectCell: errorNamed("Error", /on line three[\s\S]*cell-\d+\.js:3/),
  },
  { family: "throw", name: "a syntax error", code: "const = 5", expectCell: errorNamed("SyntaxError", /\(1:6\)/) },

  // --- FINAL with bad values -------------------------------------------------------------------------------------------
  {
    family: "final",
    name: "cyclic object",
    code: "const a = {}; a.self = a; FINAL(a)",
    expectCell: errorNamed("TypeError", /serialised as JSON/),
  },
  {
    family: "final",
    name: "a function",
    code: "FINAL(() => 1)",
    expectCell: errorNamed("TypeError", /cannot return a function/),
  },
  { family: "final", name: "no value", code: "FINAL()", expectCell: errorNamed("TypeError", /expected a value/) },
  { family: "final", name: "a BigInt", code: "FINAL(10n)", expectCell: errorNamed("TypeError", /serialised/) },
  {
    family: "final",
    name: "unknown FINAL_VAR",
    code: "const known = 1; FINAL_VAR('nope')",
    expectCell: errorNamed("ReferenceError", /no variable named "nope".*known/),
  },
  {
    family: "final",
    name: "a 5 MB answer",
    code: "FINAL('a'.repeat(5e6))",
    expectCell: (cell) => expect(cell.final).toBe(true),
    endsRun: (answer) => expect(answer.length).toBe(5_000_000),
  },

  // --- thousands of sub-calls ---------------------------------------------------------------------------------------------
  {
    family: "fan-out",
    name: "3,000 llm_query calls against maxLLMCalls",
    code: "await Promise.all(Array.from({ length: 3000 }, (_, i) => llm_query('q' + i)))",
    expectCell: errorNamed("RLMBudgetExceededError", /maxLLMCalls/),
    settings: { maxLLMCalls: 200 },
  },
  {
    family: "fan-out",
    name: "3,000 prompts in one batch",
    code: "const r = await llm_query_batched(Array.from({ length: 3000 }, (_, i) => 'q' + i)); print(r.filter(x => x instanceof Error).length, 'failed')",
    expectCell: printed(/^2[0-9]{3} failed/),
    settings: { maxLLMCalls: 500 },
  },

  {
    family: "throw",
    name: "a thrown value whose toJSON makes a call",
    // Reading the error runs model code; a call it makes belongs to the cell that threw (and ends with it).
    code: "throw { toJSON() { llm_query('made while the error was read'); return { name: 'Odd', message: 'thrown' } } }",
    expectCell: (cell) => {
      expect(cell.error?.message).toMatch(/thrown/);
      expect(cell.subcalls.map((c) => c.prompt)).toContain("made while the error was read");
    },
  },

  // --- unicode ------------------------------------------------------------------------------------------------------------
  {
    family: "unicode",
    name: "emoji and lone surrogates in the context",
    code: "print(context.length, JSON.stringify(context.slice(0, 3)))",
    context: "\uD83D\uDE00\uD800x",
    expectCell: printed(/^4 "😀\\ud800"/),
  },
  {
    family: "unicode",
    name: "lone surrogates in output and FINAL",
    code: "print('\\uD800 alone'); FINAL('emoji 😀 and \\uDC00')",
    expectCell: (cell) => expect(cell.output).toContain("alone"),
    endsRun: (answer) => expect(answer).toBe("emoji 😀 and \uDC00"),
  },
  {
    family: "unicode",
    name: "non-Latin1 host-backed text",
    code: "print(context.length, context.indexOf('ß'), context.slice(-2))",
    context: `${"Ω".repeat(150_000)}ßend`,
    expectCell: printed(/^150004 150000 nd/),
  },
];

const AFTER = codeReply(
  "const alive = typeof llm_query === 'function' && typeof FINAL === 'function' && typeof console.log === 'function';\nconst echoed = await llm_query('ping');\nFINAL(alive + ':' + echoed + ':' + context.length)",
);

describe("hostile and broken code cells", () => {
  it("covers at least 60 programs in every family", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.family)).size).toBe(11);
  });

  for (const c of corpus) {
    it(`[${c.family}] ${c.name}`, async () => {
      const context = c.context ?? "ctx";
      const model = createScriptedModel({ replies: [codeReply(c.code), AFTER] });
      const subModel = createScriptedModel({ modelId: "sub", replies: ["pong"] });
      const { maxLLMCalls, ...sandbox } = c.settings ?? {};
      const rlm = createRLM({ model, subModel, sandbox, ...(maxLLMCalls ? { maxLLMCalls } : {}) });
      const result = await rlm.run({ query: "q", context });
      const cell = result.trajectory.root.iterations[0]?.cells[0] as CellTrace;
      c.expectCell(cell);
      if (c.endsRun) {
        expect(result.stopReason).toBe("final");
        c.endsRun(result.answer);
      } else if (maxLLMCalls) {
        expect(result.stopReason).toBe("max-llm-calls");
        expect(result.usage.llmCalls).toBe(maxLLMCalls);
      } else {
        expect(result.answer).toBe(`true:pong:${context.length}`);
      }
      // Nothing leaked into the host realm.
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect(typeof JSON.stringify({})).toBe("string");
    });
  }
});
