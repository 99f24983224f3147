import { describe, expect, it } from "vitest";
import { RLMAbortedError, RLMModelError } from "../errors/index.js";
import type { RLMEvent } from "../events/rlm-event.js";
import { codeReply, createScriptedModel } from "../test/index.js";
import { createRLM } from "./create-rlm.js";

const networkError = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

describe("failing models", () => {
  it("retries a network error, then succeeds", async () => {
    const model = createScriptedModel({ replies: [networkError(), networkError(), codeReply("FINAL('ok')")] });
    const events: RLMEvent[] = [];
    const result = await createRLM({ model, onEvent: (e) => events.push(e) }).run({ query: "q" });
    expect(result.answer).toBe("ok");
    expect(events.filter((e) => e.type === "model-retry").map((e) => e.type === "model-retry" && e.attempt)).toEqual([
      1, 2,
    ]);
  });

  it("gives up after maxRetries with a typed error that keeps the cause", async () => {
    const model = createScriptedModel({ replies: [networkError()] });
    const error = await createRLM({ model, maxRetries: 1 })
      .run({ query: "q" })
      .catch((e: unknown) => e);
    expect(RLMModelError.isInstance(error)).toBe(true);
    expect((error as RLMModelError).attempts).toBe(2);
    expect((error as RLMModelError).isRetryable).toBe(true);
    expect(((error as RLMModelError).cause as { code?: string }).code).toBe("ECONNRESET");
    expect((error as RLMModelError).trajectory?.root.iterations[0]?.retries).toHaveLength(1);
  });

  it("honours retry-after on a 429 and a 500", async () => {
    const rateLimited = Object.assign(new Error("slow down"), {
      statusCode: 429,
      responseHeaders: { "retry-after": "0" },
    });
    const serverError = Object.assign(new Error("oops"), { status: 500 });
    const model = createScriptedModel({ replies: [rateLimited, serverError, codeReply("FINAL('ok')")] });
    const events: RLMEvent[] = [];
    const result = await createRLM({ model, onEvent: (e) => events.push(e) }).run({ query: "q" });
    expect(result.answer).toBe("ok");
    const retries = events.filter((e) => e.type === "model-retry");
    expect(retries[0]?.type === "model-retry" && retries[0].delayMs).toBe(0);
  });

  it("a model that hangs past modelTimeoutMs is aborted and retried", async () => {
    const model = createScriptedModel({
      replies: [codeReply("FINAL('second try')")],
      latencyMs: (r) => (r.index === 0 ? 60_000 : 0),
    });
    const result = await createRLM({ model, modelTimeoutMs: 100 }).run({ query: "q" });
    expect(result.answer).toBe("second try");
    expect(model.calls[0]?.aborted).toBe(true);
  });

  it("a sub-model that hangs fails that sub-call only; the model sees the error and goes on", async () => {
    const model = createScriptedModel({
      replies: [
        codeReply("try { await llm_query('hang') } catch (e) { print(e.name, e.message) }"),
        codeReply("FINAL('recovered')"),
      ],
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["late"], latencyMs: 60_000 });
    const result = await createRLM({ model, subModel, modelTimeoutMs: 50, maxRetries: 0 }).run({ query: "q" });
    expect(result.answer).toBe("recovered");
    expect(result.trajectory.root.iterations[0]?.cells[0]?.output).toMatch(/RLMModelError .*modelTimeoutMs = 50 ms/);
  });

  it("requests started together time out on their own: the slow one fails, its siblings answer", async () => {
    const model = createScriptedModel({
      replies: [
        codeReply(
          "const r = await llm_query_batched(['fast 1', 'slow', 'fast 2']); print(r.map((x) => x instanceof Error ? x.message : x).join(' | '))",
        ),
        codeReply("FINAL('done')"),
      ],
    });
    const subModel = createScriptedModel({
      modelId: "sub",
      replies: (r) => `answer to ${r.prompt}`,
      latencyMs: (r) => (r.prompt === "slow" ? 60_000 : 20),
    });
    const result = await createRLM({ model, subModel, modelTimeoutMs: 150, maxRetries: 0 }).run({ query: "q" });
    const output = result.trajectory.root.iterations[0]?.cells[0]?.output ?? "";
    expect(output).toMatch(/^answer to fast 1 \| .*modelTimeoutMs = 150 ms.* \| answer to fast 2$/m);
    expect(subModel.calls.map((c) => c.aborted)).toEqual([false, true, false]);
  });

  it("modelTimeoutMs: Infinity arms no timeout (Node would fire an out-of-range one after 1 ms)", async () => {
    const model = createScriptedModel({ replies: [codeReply("FINAL('patient')")], latencyMs: 30 });
    const result = await createRLM({ model, modelTimeoutMs: Number.POSITIVE_INFINITY, maxRetries: 0 }).run({
      query: "q",
    });
    expect(result.answer).toBe("patient");
    expect(model.calls[0]?.aborted).toBe(false);
  });

  it("empty replies and prose without code are answered with a nudge until a budget ends the run", async () => {
    const model = createScriptedModel({ replies: ["", "Hmm, let me think.", "Still thinking.", "FINAL(forty-two)"] });
    const result = await createRLM({ model, maxIterations: 3 }).run({ query: "q" });
    expect(result.stopReason).toBe("max-iterations");
    expect(result.answer).toBe("forty-two");
    expect(model.calls[1]?.prompt).toContain("no ```js code block");
  });

  it("a 1 MB reply runs its code but stays head-and-tail in the transcript", async () => {
    const huge = `${"blah ".repeat(200_000)}\n${codeReply("print('ran')")}`;
    const model = createScriptedModel({ replies: [huge, codeReply("FINAL('ok')")] });
    const result = await createRLM({ model }).run({ query: "q" });
    expect(result.answer).toBe("ok");
    expect(result.trajectory.root.iterations[0]?.cells[0]?.output).toBe("ran\n");
    const sent = model.calls[1]?.messages.reduce((n, m) => n + m.content.length, 0) ?? 0;
    expect(sent).toBeLessThan(30_000);
  });

  it("a code block that never closes is not run, and the model is told", async () => {
    const model = createScriptedModel({ replies: ["```js\nFINAL('cut off", codeReply("FINAL('complete')")] });
    const result = await createRLM({ model }).run({ query: "q" });
    expect(result.answer).toBe("complete");
    expect(model.calls[1]?.prompt).toContain("was not closed");
  });

  it("a model that returns something other than { text } fails with a clear RLMModelError", async () => {
    const model = { modelId: "broken", generate: async () => ({ content: "wrong shape" }) as never };
    const error = await createRLM({ model })
      .run({ query: "q" })
      .catch((e: unknown) => e);
    expect(RLMModelError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("must resolve to { text: string, usage? }");
  });
});

describe("cancellation", () => {
  it("abort during a fan-out of 100 slow sub-calls returns within 100 ms and leaves no timers", async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const model = createScriptedModel({
      replies: [codeReply("await llm_query_batched(Array.from({ length: 100 }, (_, i) => 'chunk ' + i))")],
    });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["x"], latencyMs: 30_000 });
    const controller = new AbortController();
    let abortedAt = 0;
    const rlm = createRLM({
      model,
      subModel,
      concurrency: 100,
      onEvent: (e) => {
        if (e.type === "subcall-start" && e.batch?.index === 99) {
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort();
          }, 10);
        }
      },
    });
    const error = await rlm.run({ query: "q", signal: controller.signal }).catch((e: unknown) => e);
    const returnedAfterMs = performance.now() - abortedAt;
    expect(RLMAbortedError.isInstance(error)).toBe(true);
    expect(returnedAfterMs).toBeLessThan(100);
    expect(subModel.calls).toHaveLength(100);
    expect(subModel.calls.every((c) => c.aborted && c.signal?.aborted)).toBe(true);
    await new Promise((r) => setImmediate(r));
    const after = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(after).toBeLessThanOrEqual(before);
  });

  it("an already-aborted signal rejects before anything runs", async () => {
    const model = createScriptedModel({ replies: ["FINAL(x)"] });
    const error = await createRLM({ model })
      .run({ query: "q", signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(RLMAbortedError.isInstance(error)).toBe(true);
    expect(model.calls).toHaveLength(0);
  });

  it("leaving stream() early aborts the run and its sub-calls", async () => {
    const model = createScriptedModel({ replies: [codeReply("await llm_query('slow')")] });
    const subModel = createScriptedModel({ modelId: "sub", replies: ["x"], latencyMs: 30_000 });
    for await (const event of createRLM({ model, subModel }).stream({ query: "q" })) {
      if (event.type === "subcall-start") break;
    }
    expect(subModel.calls[0]?.aborted).toBe(true);
  });
});
