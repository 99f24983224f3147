import { describe, expect, it } from "vitest";
import { createRLM } from "../engine/create-rlm.js";
import { DEFAULT_STACK_LIMIT_BYTES } from "../limits.js";
import { codeReply, createScriptedModel } from "../test/index.js";
import { Sandbox, type SandboxOptions } from "./sandbox.js";
import { SandboxWorkerPool } from "./worker-pool.js";

const options = (overrides: Partial<SandboxOptions> = {}): SandboxOptions => ({
  context: "hello world",
  memoryLimitBytes: 64 * 1024 * 1024,
  stackLimitBytes: DEFAULT_STACK_LIMIT_BYTES,
  stepTimeoutMs: 2_000,
  maxOutputChars: 10_000,
  hostStringMinChars: 100_000,
  hostStringKeys: [],
  toolNames: [],
  copyContextToWorker: false,
  workerHeapMb: 256,
  onCall: async (call) => `answer to ${String(call.args[0])}`,
  ...overrides,
});

describe("Sandbox (QuickJS debug build: no leaked handles)", () => {
  it("a busy session (sub-calls, abandoned calls, errors, FINAL) disposes without leaks", async () => {
    const sandbox = await Sandbox.create(options({ debug: true }));
    const cells = [
      "const a = await llm_query('x'); print(a)",
      "llm_query('never awaited'); print('left behind')",
      "await Promise.all([llm_query('p'), llm_query('q')])",
      "throw new Error('boom')",
      "const big = context.split(' '); big",
      "await new Promise(() => {})",
      "FINAL({ a, big })",
    ];
    const outputs: string[] = [];
    for (const code of cells) outputs.push((await sandbox.execute(code)).output);
    expect(outputs[0]).toBe("answer to x\n");
    expect(outputs[3]).toContain("Error: boom");
    expect(outputs[5]).toContain("DeadlockError");
    expect(await sandbox.dispose()).toEqual({});
    expect(await sandbox.dispose()).toEqual({});
    await expect(sandbox.execute("1")).rejects.toThrow(/disposed/);
  });

  it("the whole loop runs under the debug build and reports no leak", async () => {
    const model = createScriptedModel({
      replies: [
        codeReply("const r = await llm_query_batched(['a', 'b']); try { null.x } catch (e) {}"),
        codeReply("FINAL_VAR('r')"),
      ],
    });
    const result = await createRLM({ model, sandbox: { debug: true } }).run({ query: "q", context: "abc" });
    expect(result.value).toEqual(["a", "b"].map(() => expect.any(String)));
  });

  it.each([
    ["stays with the host", false],
    ["is copied into the worker", true],
  ])("host-backed text behaves like the string it holds when it %s", async (_, copyContextToWorker) => {
    const text = `${"alpha beta\n".repeat(20_000)}needle at the end\nÜnïcödé line`;
    const sandbox = await Sandbox.create(options({ context: text, hostStringMinChars: 1_000, copyContextToWorker }));
    try {
      const run = async (code: string) => {
        const cell = await sandbox.execute(code);
        if (cell.error) throw new Error(cell.output);
        return cell.output.trim();
      };
      const native = (fn: (s: string) => unknown) => JSON.stringify(fn(text));
      expect(await run("typeof context + ' ' + (context instanceof Text)")).toBe("object true");
      expect(await run("JSON.stringify(context.length)")).toBe(native((s) => s.length));
      expect(await run("JSON.stringify(context.slice(-12))")).toBe(native((s) => s.slice(-12)));
      expect(await run("JSON.stringify(context.indexOf('needle'))")).toBe(native((s) => s.indexOf("needle")));
      expect(await run("JSON.stringify(context.match(/al(p)ha/g).length)")).toBe(
        native((s) => s.match(/al(p)ha/g)?.length),
      );
      expect(await run("const m = context.match(/needle (at)/); JSON.stringify([m[0], m[1], m.index])")).toBe(
        native((s) => {
          const m = s.match(/needle (at)/) as RegExpMatchArray;
          return [m[0], m[1], m.index];
        }),
      );
      expect(await run("JSON.stringify([...context.matchAll(/end|line/g)].map(m => m.index))")).toBe(
        native((s) => [...s.matchAll(/end|line/g)].map((m) => m.index)),
      );
      expect(await run("JSON.stringify(context.split('\\n').length)")).toBe(native((s) => s.split("\n").length));
      // Split by a string is done natively inside QuickJS on the whole text; the pieces are the same.
      expect(await run("JSON.stringify(context.split('beta\\n').slice(0, 3))")).toBe(
        native((s) => s.split("beta\n").slice(0, 3)),
      );
      expect(await run("JSON.stringify(context.split('beta').length)")).toBe(native((s) => s.split("beta").length));
      expect(await run("JSON.stringify(context.split('').length)")).toBe(native((s) => s.split("").length));
      expect(await run("JSON.stringify(context.lines().slice(-2))")).toBe(native((s) => s.split("\n").slice(-2)));
      expect(
        await run(
          "String.prototype[Symbol.split] = function () { return ['hijacked'] }\nconst n = context.lines().length\ndelete String.prototype[Symbol.split]\nJSON.stringify(n)",
        ),
      ).toBe(native((s) => s.split("\n").length));
      expect(await run("JSON.stringify(context.count(/beta/))")).toBe("20000");
      expect(await run("JSON.stringify(context.grep(/needle/)[0].line)")).toBe("20001");
      expect(await run("JSON.stringify(context.chunks(100000).length)")).toBe(
        native((s) => Math.ceil(s.length / 100_000)),
      );
      // Chunks are Texts too: string-like, their text read only when used.
      expect(
        await run(
          "const cs = context.chunks(50000, 10); JSON.stringify([typeof cs[1], cs[1].length, cs[1].slice(0, 20), cs[1].indexOf('needle'), cs.map(String).join('').length])",
        ),
      ).toBe(
        native((s) => {
          const piece = s.slice(49_990, 99_990);
          const pieces: string[] = [];
          for (let i = 0; i < s.length; i += 49_990) {
            pieces.push(s.slice(i, i + 50_000));
            if (i + 50_000 >= s.length) break;
          }
          return ["object", piece.length, piece.slice(0, 20), piece.indexOf("needle"), pieces.join("").length];
        }),
      );
      expect(await run("JSON.stringify(context[3] + context.at(-1))")).toBe(native((s) => (s[3] as string) + s.at(-1)));
      expect(await run("JSON.stringify(context.search(/Ünï/u))")).toBe(native((s) => s.search(/Ünï/u)));
      expect(await run("JSON.stringify(context.replace('needle', 'pin').slice(-30))")).toBe(
        native((s) => s.replace("needle", "pin").slice(-30)),
      );
      expect(await run("JSON.stringify((context + '').length)")).toBe(native((s) => s.length));
      expect(await run("JSON.stringify(context.includes('needle') && context.startsWith('alpha'))")).toBe("true");
      expect(await run("JSON.stringify(context.match(/a*/g).length)")).toBe(native((s) => s.match(/a*/g)?.length));
      expect(await run("JSON.stringify(context.count(/(?:)/u))")).toBe(native((s) => s.length + 1));
      expect(await run("JSON.stringify(context.replaceAll(/beta/g, '[$&]').length)")).toBe(
        native((s) => s.replaceAll(/beta/g, "[$&]").length),
      );
      expect(await run("JSON.stringify(context.split(/\\n/, 3))")).toBe(native((s) => s.split(/\n/, 3)));
    } finally {
      await sandbox.dispose();
    }
  });

  it.each([
    ["stays with the host", false],
    ["is copied into the worker", true],
  ])("text with NULs arrives whole in the sandbox when it %s", async (_, copyContextToWorker) => {
    // Strings crossed into QuickJS as C strings once, which end at the first NUL.
    const text = "a\u0000b".repeat(60_000);
    const sandbox = await Sandbox.create(options({ context: text, copyContextToWorker }));
    try {
      const cell = await sandbox.execute(
        "JSON.stringify([context.slice(0, 5), context.slice(-100_000).length, context.indexOf('\\u0000b', 2), context.split('\\u0000').length])",
      );
      expect(JSON.parse(cell.output.trim())).toEqual(["a\u0000ba\u0000", 100_000, 4, 60_001]);
      // Printed lines keep their NULs too.
      expect((await sandbox.execute("print('x\\u0000y')")).output).toBe("x\u0000y\n");
    } finally {
      await sandbox.dispose();
    }
  });

  it("long strings from the host arrive exactly, whatever their characters", async () => {
    // From 64K characters an answer crosses as UTF-8 in a transferred buffer; a lone surrogate, which UTF-8 cannot
    // carry, makes it cross as a string.
    const text = `${"Ünïcödé 😀 line\n".repeat(7_000)}\uD800${"plain ascii\n".repeat(9_000)}`;
    const lone = text.indexOf("\uD800");
    const hash = (s: string) => {
      let x = 0;
      for (let i = 0; i < s.length; i++) x = (Math.imul(x, 31) + s.charCodeAt(i)) | 0;
      return [s.length, x];
    };
    const sandbox = await Sandbox.create(options({ context: text }));
    try {
      const cell = await sandbox.execute(
        `const hash = ${hash.toString()}\nJSON.stringify([hash(context.slice(0, ${lone})), hash(context.slice(0)), hash(context.slice(${lone + 1})), context.lines().length])`,
      );
      expect(cell.error).toBeUndefined();
      expect(JSON.parse(cell.output.trim())).toEqual([
        hash(text.slice(0, lone)),
        hash(text),
        hash(text.slice(lone + 1)),
        text.split("\n").length,
      ]);
    } finally {
      await sandbox.dispose();
    }
  });

  it("chunks asked for again are the same pieces, and all pieces together are capped", async () => {
    const text = "0123456789".repeat(50_000); // 500,000 characters: 500 chunks of 1,000
    // 1 MiB of sandbox memory: at most 16,384 items in an array result, and as many pieces in all.
    const sandbox = await Sandbox.create(options({ context: text, memoryLimitBytes: 1024 * 1024 }));
    try {
      const same = await sandbox.execute(
        "let n = 0\nfor (let i = 0; i < 200; i++) n += context.chunks(1000).length\nn + ' ' + typeof context.chunks(1000)[7] + ' ' + typeof context.chunks(999)[7]",
      );
      // 200 times the same 500 pieces; smaller chunks are plain strings.
      expect(same.output.trim()).toBe("100000 object string");
      const split = await sandbox.execute("context.split('')");
      expect(split.output).toMatch(/RangeError: split: more than 16384 pieces/);
      const many = await sandbox.execute("for (let s = 1000; s < 1100; s++) context.chunks(s)");
      expect(many.error?.name).toBe("RangeError");
      // 1,000 + four chunkings of the text at 1,000 characters: 3,000 pieces, six sizes' worth.
      expect(many.output).toMatch(/chunks: more than 3000 pieces in all, .*reuse the chunks you have/);
      // Chunks that start closer than 1,000 characters apart are plain strings, capped like any result: 5M
      // characters of them do not fit a 1 MiB sandbox.
      const close = await sandbox.execute("context.chunks(1000, 900)");
      expect(close.output).toMatch(
        /RangeError: chunks: the result would be 4991000 characters, more than the sandbox can hold .*use less overlap/,
      );
    } finally {
      await sandbox.dispose();
    }
  });

  it("a crashed worker is replaced; the cell says variables were lost", async () => {
    const pool = new SandboxWorkerPool(1);
    const sandbox = await Sandbox.create(options({ pool, stepTimeoutMs: 10_000 }));
    try {
      await sandbox.execute("var kept = 1");
      const running = sandbox.execute("while (true) {}");
      setTimeout(() => pool.terminateAll(new Error("the worker thread died")), 100);
      const crashed = await running;
      expect(crashed.reset).toBe(true);
      expect(crashed.error?.name).toBe("SandboxCrash");
      expect(crashed.error?.message).toMatch(
        /the worker thread died; the sandbox was restarted and all variables were lost/,
      );
      expect((await sandbox.execute("typeof kept")).output.trim()).toBe("undefined");
      expect((await sandbox.execute("context.length")).output.trim()).toBe("11");
    } finally {
      await sandbox.dispose();
    }
  });

  it("catastrophic regexes in several sandboxes at once share the host's time, and no worker is taken for hung", async () => {
    // Their Text calls queue on this one thread; each may run until its cell's CPU deadline, not past it.
    const pool = new SandboxWorkerPool(2);
    const context = `${"a".repeat(50_000)}b`;
    const sandboxes = await Promise.all(
      [1, 2, 3].map(() => Sandbox.create(options({ pool, context, hostStringMinChars: 1_000, stepTimeoutMs: 1_500 }))),
    );
    try {
      await Promise.all(sandboxes.map((sandbox) => sandbox.execute("var kept = 1")));
      const started = performance.now();
      const cells = await Promise.all(sandboxes.map((sandbox) => sandbox.execute("context.search(/(a+)+$/)")));
      // Two of them share a worker, so one cell starts only when another ends (~3 s in all); a Text call that had
      // waited for the host's thread does not get a fresh 1.5 s on top (that would take ~4.5 s).
      expect(performance.now() - started).toBeLessThan(4_000);
      for (const cell of cells) {
        expect(cell.error?.name).toBe("TimeoutError");
        expect(cell.reset).toBe(false);
      }
      for (const sandbox of sandboxes) expect((await sandbox.execute("kept")).output.trim()).toBe("1");
    } finally {
      await Promise.all(sandboxes.map((sandbox) => sandbox.dispose()));
    }
  });

  it("a worker waiting for the host behind another sandbox's long regex is not taken for hung", async () => {
    // B's watchdog would fire after 300 + 2,000 ms of silence; A holds the host's thread for 3 s.
    const pool = new SandboxWorkerPool(2);
    const context = `${"a".repeat(50_000)}b`;
    const a = await Sandbox.create(options({ pool, context, hostStringMinChars: 1_000, stepTimeoutMs: 3_000 }));
    const b = await Sandbox.create(options({ pool, context, hostStringMinChars: 1_000, stepTimeoutMs: 300 }));
    try {
      await b.execute("var kept = 1");
      // B asks for a slice 100 ms in, while the host's thread is busy with A's regex; the wait spends B's CPU
      // budget (it may end in a TimeoutError), but B's worker is alive and B keeps its variables.
      const [slow, waiting] = await Promise.all([
        a.execute("context.search(/(a+)+$/)"),
        b.execute("const t0 = Date.now(); while (Date.now() - t0 < 100) {}\ncontext.slice(0, 3)"),
      ]);
      expect(slow.error?.name).toBe("TimeoutError");
      expect(waiting.reset).toBe(false);
      expect((await b.execute("kept")).output.trim()).toBe("1");
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it("a catastrophic regex over host-backed text is stopped and the REPL keeps its variables", async () => {
    const sandbox = await Sandbox.create(
      options({ context: `${"a".repeat(50_000)}b`, hostStringMinChars: 1_000, stepTimeoutMs: 300 }),
    );
    try {
      await sandbox.execute("var kept = 1");
      const started = performance.now();
      const hung = await sandbox.execute("context.search(/(a+)+$/)");
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(hung.reset).toBe(false);
      expect(hung.error?.name).toBe("TimeoutError");
      expect((await sandbox.execute("kept + context.length")).output.trim()).toBe("50002");
    } finally {
      await sandbox.dispose();
    }
  });
});
