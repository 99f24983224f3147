import { describe, expect, it } from "vitest";
import { createRLM } from "../engine/create-rlm.js";
import { codeReply, createScriptedModel } from "../test/index.js";
import { awakeSlot, LoopWarmer } from "./loop-warmer.js";

/** CPU time this process (every thread) spends over `ms` of wall time. */
async function cpuMsDuring(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

describe("warm event loops", () => {
  it("a warmer keeps the loop turning for its window, then stops by itself", async () => {
    new LoopWarmer(20, awakeSlot()).warm();
    const spinning = await cpuMsDuring(15);
    const after = await cpuMsDuring(150);
    expect(spinning).toBeGreaterThan(5); // it really turns the loop
    expect(after).toBeLessThan(40); // and then it is quiet
  });

  it("after a message, it spins only for a peer that is awake (a sleeping one is woken, and must not wait on us)", async () => {
    // Compared with each other, not with a fixed figure: other threads of this process (a test file's sandbox
    // worker) can use some CPU meanwhile.
    const asleep = awakeSlot(); // "awake until" 0: asleep since the epoch
    // (On a loaded machine a spinning thread gets only part of a CPU: hence the low floor.)
    new LoopWarmer(120, awakeSlot()).sent(asleep);
    const forSleeper = await cpuMsDuring(100);
    const awake = awakeSlot();
    awake[0] = performance.timeOrigin + performance.now() + 200;
    new LoopWarmer(120, awakeSlot()).sent(awake);
    const forWaker = await cpuMsDuring(100);
    expect(forWaker).toBeGreaterThan(15); // it spins for an awake peer
    expect(forSleeper).toBeLessThan(forWaker / 2);
  });

  it("an engine that has finished its runs does not spin: threads are idle soon after", async () => {
    const model = createScriptedModel({
      replies: (r) => (r.index >= 20 ? codeReply("FINAL('done')") : codeReply("x = 1")),
    });
    const rlm = createRLM({ model, maxIterations: 25 });
    await Promise.all([rlm.run({ query: "q", context: "c" }), rlm.run({ query: "q", context: "c" })]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // warm windows end; a spare VM may be prepared
    expect(await cpuMsDuring(300)).toBeLessThan(60);
  });
});
