import { describe, expect, it } from "vitest";
import { RLMAbortedError, RLMInvalidArgumentError, RLMModelError } from "../errors/index.js";
import type { RLMEvent } from "../events/rlm-event.js";
import { codeReply, createScriptedModel } from "../test/index.js";
import { createRLM } from "./create-rlm.js";

const haystack = (n: number, needle: string, at: number) => {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(i === at ? needle : `line ${i}: nothing to see here`);
  return lines.join("\n");
};

/** True when two [start, end] intervals overlap. */
const overlaps = (a: { startedAt: number; endedAt?: number }, b: { startedAt: number; endedAt?: number }) =>
  a.startedAt < (b.endedAt ?? Number.POSITIVE_INFINITY) && b.startedAt < (a.endedAt ?? Number.POSITIVE_INFINITY);

describe("createRLM: the loop", () => {
  it("searches the context with code and answers with FINAL", async () => {
    const context = haystack(50_000, "The secret code is 7421.", 31_337);
    const model = createScriptedModel({
      replies: [
        codeReply("const m = context.match(/secret code is (\\d+)/);\nprint(m[1], m.index)"),
        codeReply("FINAL(m[1])"),
      ],
    });
    const rlm = createRLM({ model });
    const result = await rlm.run({ query: "What is the secret code?", context });
    expect(result.answer).toBe("7421");
    expect(result.stopReason).toBe("final");
    expect(result.iterations).toBe(2);
    // The root never saw the context: only its description.
    const firstPrompt = model.calls[0]?.messages.map((m) => m.content).join("\n") ?? "";
    expect(firstPrompt).not.toContain("7421");
    expect(firstPrompt).toContain(`a string of ${context.length.toLocaleString("en-US")} characters`);
    // The second turn saw the printed output.
    expect(model.calls[1]?.prompt).toContain("7421");
  });

  it("keeps state across iterations: const, let, function and class, redeclared freely", async () => {
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const a = 1; let b = 2; function add(x, y) { return x + y }; class Box { constructor(v) { this.v = v } }",
        ),
        codeReply("const a = 10; print(add(a, b), new Box(3).v)"),
        codeReply("FINAL(String(add(a, b)))"),
      ],
    });
    const result = await createRLM({ model }).run({ query: "q", context: "" });
    expect(result.answer).toBe("12");
    const cells = result.trajectory.root.iterations.flatMap((i) => i.cells);
    expect(cells[1]?.output).toBe("12 3\n");
    expect(cells.every((c) => c.error === undefined)).toBe(true);
  });

  it("supports top-level await and FINAL_VAR, returning non-string values as JSON", async () => {
    const model = createScriptedModel({
      replies: [codeReply('const summary = { words: await llm_query("count") }\nFINAL_VAR("summary")')],
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["42"] });
    const result = await createRLM({ model, subModel }).run({ query: "q", context: "abc" });
    expect(result.value).toEqual({ words: "42" });
    expect(JSON.parse(result.answer)).toEqual({ words: "42" });
  });

  it("accepts FINAL(...) and FINAL_VAR(name) written in prose", async () => {
    const prose = createScriptedModel({ replies: ["I looked enough.\nFINAL(The answer is 42)"] });
    expect((await createRLM({ model: prose }).run({ query: "q" })).answer).toBe("The answer is 42");

    const viaVar = createScriptedModel({
      replies: [codeReply("const report = ['a', 'b'].join('+')"), "Done.\nFINAL_VAR(report)"],
    });
    const result = await createRLM({ model: viaVar }).run({ query: "q" });
    expect(result.answer).toBe("a+b");
  });

  it("runs every block of a reply in order and stops at FINAL", async () => {
    const model = createScriptedModel({
      replies: [
        `First:\n${codeReply("var x = 1")}\nThen:\n${codeReply("x += 1; FINAL(String(x))")}\n${codeReply("x = 100")}`,
      ],
    });
    const result = await createRLM({ model }).run({ query: "q" });
    expect(result.answer).toBe("2");
    expect(result.trajectory.root.iterations[0]?.cells).toHaveLength(2);
  });

  it("asks once more for an answer without code when iterations run out", async () => {
    const model = createScriptedModel({
      replies: [codeReply("print(1)"), codeReply("print(2)"), "FINAL(best guess)"],
    });
    const result = await createRLM({ model, maxIterations: 2 }).run({ query: "q" });
    expect(result.stopReason).toBe("max-iterations");
    expect(result.answer).toBe("best guess");
    expect(model.calls).toHaveLength(3);
    expect(model.calls[2]?.prompt).toContain("Do not write code");
  });

  it("tells the model when a reply has no code and no answer", async () => {
    const model = createScriptedModel({ replies: ["Let me think about it.", codeReply('FINAL("ok")')] });
    const result = await createRLM({ model }).run({ query: "q" });
    expect(result.answer).toBe("ok");
    expect(model.calls[1]?.prompt).toContain("no ```js code block");
  });
});

describe("createRLM: context access (provenance)", () => {
  it("reports which host-backed texts the run read, and how much", async () => {
    const docs = [
      { id: "a", text: "apples are red" },
      { id: "b", text: "bananas are yellow" },
      { id: "c", text: "cherries are red too" },
    ];
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const red = context.filter(d => d.text.includes('red')).map(d => d.text.slice(0, 6)); FINAL(red.join(','))",
        ),
      ],
    });
    const result = await createRLM({ model, sandbox: { hostStringKeys: ["text"] } }).run({ query: "q", context: docs });
    expect(result.answer).toBe("apples,cherri");
    const byPath = Object.fromEntries(result.contextAccess.map((a) => [a.path.join("."), a]));
    expect(byPath["0.text"]).toMatchObject({ charsRead: 6, hits: 1, operations: 2 });
    expect(byPath["1.text"]).toMatchObject({ charsRead: 0, hits: 0, operations: 1 });
    expect(byPath["2.text"]).toMatchObject({ charsRead: 6, hits: 1, operations: 2 });
    expect(model.calls[0]?.messages[0]?.content).toContain("(and every `text` field)");
  });

  it("counts small chunks as read when made, and chunks held as Texts when used", async () => {
    const context = "abcdefgh".repeat(1_000);
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const small = context.chunks(100)\nconst big = context.chunks(4000)\nFINAL(String(small.length + big.length))",
        ),
      ],
    });
    const result = await createRLM({ model, sandbox: { hostStringMinChars: 1_000 } }).run({ query: "q", context });
    expect(result.answer).toBe("82");
    const smallJSON = JSON.stringify(Array.from({ length: 80 }, (_, i) => context.slice(i * 100, i * 100 + 100)));
    expect(result.contextAccess).toEqual([{ path: [], charsRead: smallJSON.length, hits: 0, operations: 2 }]);
  });

  it("counts what list methods found as hits", async () => {
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const t = context[0].text\nconst m = [...t.matchAll(/a\\d/g)].length\nconst g = t.grep(/b/).length\nconst s = t.split(' ').length\nFINAL([m, g, s].join(','))",
        ),
      ],
    });
    const context = [{ text: "a1 b2 a3" }];
    const result = await createRLM({ model, sandbox: { hostStringKeys: ["text"] } }).run({ query: "q", context });
    expect(result.answer).toBe("2,1,3");
    // Two matches and one matching line; pieces of a split are read, not found.
    expect(result.contextAccess).toEqual([
      { path: [0, "text"], charsRead: expect.any(Number), hits: 3, operations: 3 },
    ]);
    expect(result.contextAccess[0]?.charsRead).toBeGreaterThan(8);
  });
});

describe("createRLM: tools", () => {
  it("calls host tools from code with JSON arguments, and describes them to the root model", async () => {
    const seen: unknown[] = [];
    const model = createScriptedModel({
      replies: [
        codeReply("const w = await weather({ city: 'Oslo' }); const n = await add(2, 3);\nFINAL(w.summary + ' ' + n)"),
      ],
    });
    const rlm = createRLM({
      model,
      tools: {
        weather: {
          description: "Current weather for a city: { city } => { summary }",
          execute: async (args) => {
            seen.push(args);
            return { summary: "rain" };
          },
        },
        add: (a, b) => Number(a) + Number(b),
      },
    });
    const result = await rlm.run({ query: "q" });
    expect(result.answer).toBe("rain 5");
    expect(seen).toEqual([{ city: "Oslo" }]);
    expect(model.calls[0]?.messages[0]?.content).toContain("`weather`: Current weather for a city");
    const calls = result.trajectory.root.iterations[0]?.cells[0]?.subcalls ?? [];
    expect(calls.map((c) => [c.kind, c.target])).toEqual([
      ["tool", "weather"],
      ["tool", "add"],
    ]);
  });

  it("a tool's result reaches the code as it was, even where it looks like the engine's own markers", async () => {
    const model = createScriptedModel({
      replies: [codeReply("const r = await echo(); FINAL(JSON.stringify(r))")],
    });
    const value = [{ $rlmError: null }, { $rlmError: { name: "X", message: "y" } }, { $rlmText: 0 }];
    const rlm = createRLM({ model, tools: { echo: async () => value } });
    expect((await rlm.run({ query: "q" })).answer).toBe(JSON.stringify(value));
  });

  it("a throwing tool is an error the model can catch", async () => {
    const model = createScriptedModel({
      replies: [codeReply("try { await boom() } catch (e) { FINAL('caught ' + e.message) }")],
    });
    const result = await createRLM({
      model,
      tools: {
        boom: () => {
          throw new Error("tool failed");
        },
      },
    }).run({ query: "q" });
    expect(result.answer).toBe("caught tool failed");
  });
});

describe("createRLM: concurrent sub-calls", () => {
  const fanOut = async (code: string, concurrency: number) => {
    const model = createScriptedModel({ replies: [codeReply(code), codeReply("FINAL(String(answers.length))")] });
    const subModel = createScriptedModel({ modelId: "sub", replies: (r) => `seen ${r.prompt}`, latencyMs: 40 });
    const result = await createRLM({ model, subModel, concurrency }).run({ query: "q", context: "x" });
    return { result, calls: subModel.calls };
  };

  it("llm_query_batched runs sub-calls at the same time, up to `concurrency`", async () => {
    const { result, calls } = await fanOut(
      "const answers = await llm_query_batched(Array.from({ length: 8 }, (_, i) => 'chunk ' + i))",
      4,
    );
    expect(result.answer).toBe("8");
    expect(calls).toHaveLength(8);
    // The first four overlap one another; the fifth waited for a free slot.
    for (let i = 1; i < 4; i++) expect(overlaps(calls[0] as never, calls[i] as never)).toBe(true);
    const firstEnd = Math.min(...calls.slice(0, 4).map((c) => c.endedAt ?? 0));
    expect(calls[4]?.startedAt).toBeGreaterThanOrEqual(firstEnd);
  });

  it("Promise.all over llm_query is concurrent too", async () => {
    const { calls } = await fanOut(
      "const answers = await Promise.all([0, 1, 2, 3, 4, 5].map(i => llm_query('part ' + i)))",
      16,
    );
    expect(calls).toHaveLength(6);
    for (const call of calls.slice(1)) expect(overlaps(calls[0] as never, call as never)).toBe(true);
  });

  it("a failing sub-call is an Error in the batch; the other answers survive", async () => {
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const r = await llm_query_batched(['ok 1', 'boom', 'ok 2']);\nFINAL(r.map(x => x instanceof Error ? 'E:' + x.name : x).join('|'))",
        ),
      ],
    });
    const subModel = createScriptedModel({
      modelId: "sub",
      replies: (r) => {
        if (r.prompt === "boom") throw Object.assign(new Error("bad request"), { status: 400 });
        return r.prompt.toUpperCase();
      },
    });
    const result = await createRLM({ model, subModel }).run({ query: "q" });
    expect(result.answer).toBe("OK 1|E:RLMModelError|OK 2");
  });

  it("caches identical sub-calls within a run and reports the hits", async () => {
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const a = await llm_query_batched(['same', 'same', 'other']); const b = await llm_query('same');\nFINAL(a.concat(b).join(','))",
        ),
      ],
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: (r) => r.prompt.length.toString(), latencyMs: 10 });
    const result = await createRLM({ model, subModel }).run({ query: "q" });
    expect(result.answer).toBe("4,4,5,4");
    expect(subModel.calls).toHaveLength(2);
    expect(result.usage.cacheHits).toBe(2);
    expect(result.usage.byModel.sub?.cacheHits).toBe(2);
  });
});

describe("createRLM: recursion and the shared budget", () => {
  it("rlm_query runs a child RLM one level deeper, sharing one ledger, down to maxDepth", async () => {
    // Every run (root, child, grandchild) is played by the same scripted model, told apart by depth in the prompt.
    const model = createScriptedModel({
      replies: (r) => {
        const query = /Query: (.*)/.exec(r.messages[1]?.content ?? "")?.[1] ?? "";
        if (r.messages.length > 2) return `FINAL(done ${query})`;
        if (query === "top") return codeReply("const a = await rlm_query('middle', context.slice(0, 5));\nFINAL(a)");
        if (query === "middle")
          return codeReply("const b = await rlm_query('bottom', context);\nFINAL('m<' + b + '>')");
        return codeReply("FINAL('leaf ' + context.length + ' ' + (await llm_query('at max depth')))");
      },
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["sub answer"] });
    const events: RLMEvent[] = [];
    const rlm = createRLM({ model, subModel, maxDepth: 2, onEvent: (e) => events.push(e) });
    const result = await rlm.run({ query: "top", context: "0123456789" });
    expect(result.answer).toBe("m<leaf 5 sub answer>");
    const starts = events.filter((e) => e.type === "run-start");
    expect(starts.map((e) => e.depth)).toEqual([0, 1, 2]);
    // Parent ids tie each child to the run and the sub-call that spawned it.
    expect(starts[1]?.type === "run-start" && starts[1].parentRunId).toBe(starts[0]?.runId);
    expect(starts[2]?.type === "run-start" && starts[2].parentRunId).toBe(starts[1]?.runId);
    // One ledger: 3 root turns + 1 sub-call.
    expect(result.usage.llmCalls).toBe(4);
    const child = result.trajectory.root.iterations[0]?.cells[0]?.subcalls[0]?.child;
    expect(child?.depth).toBe(1);
    expect(child?.iterations[0]?.cells[0]?.subcalls[0]?.child?.depth).toBe(2);
  });

  it.each([
    ["stays with the host", false],
    ["is copied into the worker", true],
  ])("a large context passes whole to rlm_query, llm_query and tools, by reference, when it %s", async (_, copy) => {
    // 9.6M characters: more than this sandbox may hold (8 MiB), so it can only travel by reference.
    const context = `${"lorem ipsum ".repeat(800_000)}the end`;
    const model = createScriptedModel({
      replies: (r) => {
        if (/Query: child/.test(r.messages[1]?.content ?? "")) return codeReply("FINAL(String(context.length))");
        return codeReply(
          "const [a, b, c] = await Promise.all([rlm_query('child', context), llm_query(context), measure(context)])\nFINAL([a, b, c].join(' '))",
        );
      },
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: (r) => `prompt of ${r.prompt.length}` });
    const rlm = createRLM({
      model,
      subModel,
      maxDepth: 1,
      sandbox: { memoryLimitBytes: 8 * 1024 * 1024, copyContextToWorker: copy },
      tools: { measure: { execute: async (text: unknown) => (typeof text === "string" ? text.length : -1) } },
    });
    const result = await rlm.run({ query: "root", context });
    const n = context.length;
    expect(result.answer).toBe(`${n} prompt of ${n} ${n}`);
    // Handing a text to a sub-call counts as reading all of it (three times here).
    expect(result.contextAccess).toEqual([{ path: [], charsRead: 3 * n, hits: 0, operations: 3 }]);
    // The tool's event describes its argument without a copy of it: the middle is cut.
    const toolCall = result.trajectory.root.iterations[0]?.cells[0]?.subcalls.find((c) => c.kind === "tool");
    expect(toolCall?.prompt.length).toBeLessThan(21_000);
    expect(toolCall?.prompt).toMatch(/^\["lorem ipsum lorem ipsum .*the end"\]$/s);
  });

  it.each([
    // 9.6M characters in 2.4M-character chunks: together more than this sandbox may hold (8 MiB).
    ["stays with the host", false, 8],
    // Pieces of a copied context live in the worker and cross as strings: the calls of one slice may hold a quarter
    // of the sandbox's memory.
    ["is copied into the worker", true, 64],
  ])(
    "chunks of a large context go to sub-calls and tools without copies into the sandbox, when it %s",
    async (_, copy, mib) => {
      const context = `${"lorem ipsum ".repeat(800_000)}the end`;
      const model = createScriptedModel({
        replies: [
          codeReply(
            "const cs = context.chunks(2_400_000)\nconst r = await llm_query_batched(cs)\nconst t = await measure(cs[3])\nFINAL(r.join(',') + ';' + t + ';' + cs[4].slice(-7))",
          ),
        ],
      });
      const subModel = createScriptedModel({ modelId: "sub", replies: (r) => String(r.prompt.length) });
      const rlm = createRLM({
        model,
        subModel,
        sandbox: { memoryLimitBytes: mib * 1024 * 1024, copyContextToWorker: copy },
        tools: { measure: { execute: async (text: unknown) => (typeof text === "string" ? text.length : -1) } },
      });
      const result = await rlm.run({ query: "root", context });
      expect(result.answer).toBe("2400000,2400000,2400000,2400000,7;2400000;the end");
      // Reads of the chunks count as reads of the context: all of it once, a chunk again, and the slice.
      const [access] = result.contextAccess;
      expect(access?.path).toEqual([]);
      expect(access?.charsRead).toBe(context.length + 2_400_000 + 7);
    },
  );

  it("long string arguments reach sub-calls and tools whole: non-Latin1, astral, NULs, lone surrogates", async () => {
    // Long strings leave the sandbox natively, not as JSON made inside QuickJS (a NUL sends one back to JSON).
    const big = "Ünïcödé 😀 ".repeat(500);
    const withNul = "x\u0000y".repeat(1_000);
    const lone = `\uD800${"z".repeat(2_000)}`;
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const big = 'Ünïcödé 😀 '.repeat(500)\nconst withNul = 'x\\u0000y'.repeat(1000)\nconst r = await Promise.all([llm_query(big), llm_query(withNul), check(big, withNul), rlm_query('q', big), llm_query('\\uD800' + 'z'.repeat(2000))])\nFINAL(r.join('|'))",
        ),
      ],
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: (r) => String(r.prompt.length) });
    const seen: unknown[] = [];
    const rlm = createRLM({
      model,
      subModel,
      maxDepth: 0,
      tools: {
        check: {
          execute: async (a: unknown, b: unknown) => {
            seen.push(a, b);
            return a === big && b === withNul;
          },
        },
      },
    });
    const result = await rlm.run({ query: "q" });
    expect(result.answer).toBe(`${big.length}|${withNul.length}|true|${"q\n\n".length + big.length}|${lone.length}`);
    expect(subModel.calls.map((c) => c.prompt)).toEqual(expect.arrayContaining([big, withNul, `q\n\n${big}`, lone]));
    expect(seen).toEqual([big, withNul]);
  });

  it("at maxDepth, rlm_query falls back to llm_query", async () => {
    const model = createScriptedModel({ replies: [codeReply("FINAL(await rlm_query('question', 'sub context'))")] });
    const subModel = createScriptedModel({ modelId: "sub", replies: (r) => `sub saw: ${r.prompt}` });
    const result = await createRLM({ model, subModel, maxDepth: 0 }).run({ query: "q" });
    expect(result.answer).toBe("sub saw: question\n\nsub context");
  });

  it("a child spends what is left of the shared budget, not a fresh one", async () => {
    const model = createScriptedModel({
      replies: (r) => {
        const query = /Query: (.*)/.exec(r.messages[1]?.content ?? "")?.[1] ?? "";
        if (query === "child")
          return codeReply("await llm_query('x1'); await llm_query('x2'); await llm_query('x3'); FINAL('child done')");
        return codeReply("const c = await rlm_query('child', 'ctx'); FINAL(c)");
      },
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: (r) => r.prompt });
    const result = await createRLM({ model, subModel, maxLLMCalls: 4 }).run({ query: "root" });
    // root turn (1) + child turn (2) + x1 (3) + x2 (4): x3 is refused, the whole tree stops.
    expect(result.stopReason).toBe("max-llm-calls");
    expect(result.usage.llmCalls).toBe(4);
  });

  it("stops on maxTokens with the stop reason and the trajectory so far", async () => {
    const model = createScriptedModel({
      replies: [codeReply("print('working')")],
      usage: { inputTokens: 600, outputTokens: 10 },
    });
    const result = await createRLM({ model, maxTokens: 1_000 }).run({ query: "q" });
    expect(result.stopReason).toBe("max-tokens");
    expect(result.iterations).toBe(2);
    expect(result.trajectory.root.iterations).toHaveLength(2);
  });

  it("stops on timeoutMs, even while a cell awaits a slow sub-call", async () => {
    const model = createScriptedModel({ replies: [codeReply("await llm_query('slow'); FINAL('never')")] });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["late"], latencyMs: 5_000 });
    const result = await createRLM({ model, subModel, timeoutMs: 300 }).run({ query: "q" });
    expect(result.stopReason).toBe("timeout");
    expect(result.answer).toBe("");
    expect(subModel.calls[0]?.aborted).toBe(true);
  });
});

describe("createRLM: abort, errors and events", () => {
  it("abort mid-fan-out rejects with RLMAbortedError, cancels every in-flight call, keeps the trajectory", async () => {
    const model = createScriptedModel({
      replies: [codeReply("await llm_query_batched(Array.from({ length: 20 }, (_, i) => 'p' + i))")],
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["x"], latencyMs: 10_000 });
    const controller = new AbortController();
    const rlm = createRLM({
      model,
      subModel,
      concurrency: 20,
      onEvent: (e) => {
        if (e.type === "subcall-start" && e.batch?.index === 19) setTimeout(() => controller.abort(), 20);
      },
    });
    const error = await rlm.run({ query: "q", signal: controller.signal }).catch((e: unknown) => e);
    expect(RLMAbortedError.isInstance(error)).toBe(true);
    expect(subModel.calls).toHaveLength(20);
    expect(subModel.calls.every((c) => c.aborted)).toBe(true);
    const trajectory = (error as RLMAbortedError).trajectory;
    expect(trajectory?.root.iterations[0]?.response?.text).toContain("llm_query_batched");
  });

  it("a root model that fails for good throws RLMModelError carrying the trajectory", async () => {
    const model = createScriptedModel({
      replies: [codeReply("print('step one')"), Object.assign(new Error("invalid api key"), { status: 401 })],
    });
    const error = await createRLM({ model })
      .run({ query: "q" })
      .catch((e: unknown) => e);
    expect(RLMModelError.isInstance(error)).toBe(true);
    expect((error as RLMModelError).statusCode).toBe(401);
    expect((error as RLMModelError).trajectory?.root.iterations[0]?.cells[0]?.output).toBe("step one\n");
  });

  it("retries transient errors with backoff and reports each retry", async () => {
    const model = createScriptedModel({
      replies: [Object.assign(new Error("rate limited"), { status: 429, retryAfterMs: 5 }), codeReply("FINAL('ok')")],
    });
    const events: RLMEvent[] = [];
    const result = await createRLM({ model, onEvent: (e) => events.push(e) }).run({ query: "q" });
    expect(result.answer).toBe("ok");
    expect(events.filter((e) => e.type === "model-retry")).toHaveLength(1);
    expect(result.usage.llmCalls).toBe(2);
  });

  it("emits events in order, the last one carrying the result", async () => {
    const model = createScriptedModel({ replies: [codeReply("const x = await llm_query('hi'); FINAL(x)")] });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["hello"] });
    const rlm = createRLM({ model, subModel });
    const types: string[] = [];
    let last: RLMEvent | undefined;
    for await (const event of rlm.stream({ query: "q" })) {
      types.push(event.type);
      last = event;
    }
    expect(types).toEqual([
      "run-start",
      "iteration-start",
      "model-request",
      "model-response",
      "subcall-start",
      "subcall-end",
      "code-executed",
      "final-answer",
      "run-finish",
    ]);
    expect(last?.type === "run-finish" && last.result?.answer).toBe("hello");
  });

  it("truncates long output, keeping head and tail and stating the true length", async () => {
    const model = createScriptedModel({
      replies: [codeReply("print('HEAD' + 'x'.repeat(50000) + 'TAIL')"), codeReply("FINAL('ok')")],
    });
    const result = await createRLM({ model, sandbox: { maxOutputChars: 1_000 } }).run({ query: "q" });
    const cell = result.trajectory.root.iterations[0]?.cells[0];
    expect(cell?.truncated).toBe(true);
    expect(cell?.outputChars).toBe(50_009);
    expect(cell?.output.startsWith("HEAD")).toBe(true);
    expect(cell?.output.trimEnd().endsWith("TAIL")).toBe(true);
    expect(model.calls[1]?.prompt).toContain("50,009 characters");
    expect(model.calls[1]?.prompt.length).toBeLessThan(1_400);
  });

  it("rejects bad input at the door, naming the field", async () => {
    const rlm = createRLM({ model: createScriptedModel({ replies: ["FINAL(x)"] }) });
    await expect(rlm.run({ query: "  " })).rejects.toThrow(/`query`: expected a non-empty string/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expect(rlm.run({ query: "q", context: cyclic as never })).rejects.toThrow(
      /`context.self`: the context has a cycle/,
    );
    await expect(rlm.run({ query: "q", context: (() => 1) as never })).rejects.toThrow(RLMInvalidArgumentError);
    await expect(rlm.run({ query: "q", context: [1, new Date()] as never })).rejects.toThrow(
      /`context\[1\]`: got a Date/,
    );
  });
});
