// The benchmark suite: `pnpm bench` from the repository root. Prints one table (medians of several runs, each
// figure beside its limit as a ratio) and writes bench/results/<date>.json and bench/results/latest.json.
// Engine code is imported from dist/, so build first (the root script does).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateHaystack } from "../dist/demo/index.js";
import { createRLM } from "../dist/index.js";
import { ContextStore } from "../dist/sandbox/context-store.js";
import { Sandbox } from "../dist/sandbox/sandbox.js";
import { codeReply, createScriptedModel } from "../dist/test/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const rows = [];
const row = (group, metric, value, unit, limit, note = "") => {
  rows.push({ group, metric, value, unit, limit, ratio: limit ? value / limit : undefined, note });
};
const log = (s) => process.stderr.write(`${s}\n`);

// 1. needle ---------------------------------------------------------------------------------------------------------
async function needle() {
  log("needle: generating 45 MB ...");
  const context = generateHaystack({
    chars: 45_000_000,
    needle: "The magic number of the archive is 8675309.",
    seed: 1234,
    needleAt: 0.73,
  });
  const regex = /magic number of the archive is (\d+)/;
  const v8 = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    regex.exec(context);
    v8.push(performance.now() - t);
  }
  const engine = [];
  const search = [];
  const load = [];
  for (let i = 0; i < RUNS; i++) {
    const model = createScriptedModel({
      replies: [
        codeReply("const m = context.match(/magic number of the archive is (\\d+)/)\nm[1]"),
        codeReply("FINAL(m[1])"),
      ],
    });
    let runStart = 0;
    let firstCellStart = 0;
    const rlm = createRLM({
      model,
      onEvent: (e) => {
        if (e.type === "run-start") runStart = performance.now();
        if (e.type === "code-executed" && firstCellStart === 0) firstCellStart = e.startedAt;
      },
    });
    const t = performance.now();
    const result = await rlm.run({ query: "What is the magic number?", context });
    const total = performance.now() - t;
    if (result.answer !== "8675309") throw new Error(`needle: wrong answer ${result.answer}`);
    const cells = result.trajectory.root.iterations.flatMap((it) => it.cells);
    search.push(cells[0].durationMs);
    engine.push(total);
    load.push(result.trajectory.root.iterations[0].cells[0].startedAt - result.trajectory.root.startedAt);
    void runStart;
    void firstCellStart;
  }
  row("needle (45 MB)", "engine time, whole run", median(engine), "ms", 100, "limit: the Python reference's ~99 ms");
  row(
    "needle (45 MB)",
    "context ready in the sandbox",
    median(load),
    "ms",
    100,
    "run start to first cell (includes worker + QuickJS start)",
  );
  row(
    "needle (45 MB)",
    "regex search, in the sandbox",
    median(search),
    "ms",
    median(v8),
    `the whole cell, vs the same regex in plain V8: ${median(v8).toFixed(2)} ms`,
  );
  // Splitting the whole context into pieces for the model's code.
  const v8Lines = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    context.split("\n");
    v8Lines.push(performance.now() - t);
  }
  // Each run's cells in order; the figure is the last one's duration (earlier cells set it up).
  const lastCellMs = async (metric, cells) => {
    const durations = [];
    for (let i = 0; i < RUNS; i++) {
      const model = createScriptedModel({ replies: [...cells.map(codeReply), codeReply("FINAL('done')")] });
      const result = await createRLM({ model }).run({ query: "q", context });
      const cell = result.trajectory.root.iterations[cells.length - 1].cells[0];
      if (cell.error) throw new Error(`needle: ${metric}: ${cell.error.message}`);
      durations.push(cell.durationMs);
    }
    return median(durations);
  };
  for (const [metric, code, how] of [
    ["lines(), in the sandbox", "context.lines().length", "QuickJS splits the whole text natively"],
    ["chunks(100000), in the sandbox", "context.chunks(100000).length", "the chunks are host-held Texts"],
  ]) {
    row(
      "needle (45 MB)",
      metric,
      await lastCellMs(metric, [code]),
      "ms",
      median(v8Lines),
      `the whole cell, vs split("\\n") in plain V8: ${median(v8Lines).toFixed(1)} ms; ${how}`,
    );
  }
  // What QuickJS's own split costs, the text already inside the sandbox (a first cell brought it in): the floor under
  // lines() for any design that hands the sandbox real strings.
  const splitInside = "... its split alone, text already inside";
  row(
    "needle (45 MB)",
    splitInside,
    await lastCellMs(splitInside, ["const s = context.toString()\ns.length", 's.split("\\n").length']),
    "ms",
    median(v8Lines),
    'QuickJS\'s split("\\n") of a string it holds (740,000 strings, fresh memory): the floor under lines()',
  );
  // The `Text` method alone, as the host runs it for the sandbox (time limit and match conversion included).
  const store = new ContextStore(context, 100_000, [], 256 * 1024 * 1024);
  const textCall = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    store.op(0, "match", ["re", regex.source, ""], 30_000);
    textCall.push(performance.now() - t);
  }
  row(
    "needle (45 MB)",
    "regex search, the Text call alone",
    median(textCall),
    "ms",
    median(v8),
    "the host side of context.match(...), vs plain V8",
  );
}

// 2. fan-out ---------------------------------------------------------------------------------------------------------
async function fanOut() {
  const LATENCY = 200;
  // What Node's timers alone give for 100 concurrent 200 ms waits (the scripted sub-model's latency is a timer).
  const bare = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await Promise.all(Array.from({ length: 100 }, () => new Promise((r) => setTimeout(r, LATENCY))));
    bare.push(performance.now() - t);
  }
  for (const concurrency of [16, 100]) {
    for (const style of ["batched", "Promise.all"]) {
      const code =
        style === "batched"
          ? "const r = await llm_query_batched(Array.from({ length: 100 }, (_, i) => 'chunk ' + i))"
          : "const r = await Promise.all(Array.from({ length: 100 }, (_, i) => llm_query('chunk ' + i)))";
      const walls = [];
      // At least ~3 s of samples per figure: a single 200 ms round moves by milliseconds on a busy machine.
      const samples = Math.max(RUNS + 2, Math.ceil(3000 / (Math.ceil(100 / concurrency) * LATENCY)));
      for (let i = 0; i < samples; i++) {
        const model = createScriptedModel({ replies: [codeReply(code), codeReply("FINAL(String(r.length))")] });
        const subModel = createScriptedModel({ modelId: "sub", replies: ["ok"], latencyMs: LATENCY });
        const result = await createRLM({ model, subModel, concurrency, cache: false }).run({
          query: "q",
          context: "x",
        });
        walls.push(result.trajectory.root.iterations[0].cells[0].durationMs);
      }
      const ideal = Math.ceil(100 / concurrency) * LATENCY;
      const floor = concurrency === 100 ? await sandboxAlone(code, LATENCY, samples) : undefined;
      row(
        "fan-out (100 x 200 ms)",
        `${style}, concurrency ${concurrency}`,
        median(walls),
        "ms",
        ideal,
        `ideal ceil(100/${concurrency}) x 200 ms = ${ideal} ms; 100 bare 200 ms timers: ${median(bare).toFixed(1)} ms`,
      );
      if (floor !== undefined)
        row(
          "fan-out (100 x 200 ms)",
          `... the sandbox alone, ${style}`,
          floor,
          "ms",
          ideal,
          "the same cell in a bare Sandbox whose calls are 200 ms timers (no engine, no model): the design's floor",
        );
    }
  }
}

/**
 * The fan-out cell in a `Sandbox` whose calls are answered by bare timers: what the worker round trip and Node's timers
 * cost by themselves, without the engine's router, budget, events or a model.
 */
async function sandboxAlone(code, latencyMs, samples) {
  const answer = () => new Promise((resolve) => setTimeout(() => resolve("ok"), latencyMs));
  const walls = [];
  for (let i = 0; i < samples; i++) {
    const sandbox = await Sandbox.create({
      context: "x",
      copyContextToWorker: false,
      memoryLimitBytes: 256 * 1024 * 1024,
      stackLimitBytes: 1024 * 1024,
      stepTimeoutMs: 30_000,
      maxOutputChars: 20_000,
      hostStringMinChars: 100_000,
      hostStringKeys: [],
      toolNames: [],
      workerHeapMb: 0,
      onCall: (call) => (call.kind === "llm_query_batched" ? Promise.all(call.args.map(answer)) : answer()),
    });
    const cell = await sandbox.execute(code);
    if (cell.error) throw new Error(`fan-out floor: ${cell.error.message}`);
    walls.push(cell.durationMs);
    void sandbox.dispose(); // as runs do: nothing waits for a sandbox's disposal
  }
  return median(walls);
}

// 3. iterations --------------------------------------------------------------------------------------------------------
async function iterations() {
  const perIteration = [];
  // One run first to warm the JIT (not counted), then RUNS runs.
  for (let i = -1; i < RUNS; i++) {
    const model = createScriptedModel({
      replies: (r) => (r.index >= 100 ? codeReply("FINAL('done')") : codeReply("x = 1")),
    });
    const starts = [];
    const modelMs = [];
    const rlm = createRLM({
      model,
      maxIterations: 101,
      onEvent: (e) => {
        if (e.type === "iteration-start") starts.push(performance.now());
        if (e.type === "model-response") modelMs.push(e.durationMs);
      },
    });
    await rlm.run({ query: "q", context: "abc" });
    const gaps = [];
    for (let k = 1; k < starts.length; k++) gaps.push((starts[k] - starts[k - 1] - modelMs[k - 1]) * 1000);
    if (i >= 0) perIteration.push(median(gaps));
  }
  row(
    "iterations (zero-latency model)",
    "engine overhead per iteration",
    median(perIteration),
    "µs",
    100,
    "median gap between turns, minus model time",
  );
}

// 4. cold start -------------------------------------------------------------------------------------------------------
function coldStart() {
  // A fresh process, so the first sandbox is truly the first.
  const script = `
    import { createRLM } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
    const model = { modelId: "m", generate: async () => ({ text: "\`\`\`js\\nFINAL('x')\\n\`\`\`" }) };
    const times = [];
    for (let i = 0; i < 6; i++) {
      let start = 0;
      const rlm = createRLM({ model, onEvent: (e) => { if (e.type === "run-start") start = performance.now(); if (e.type === "code-executed") times.push(performance.now() - start - e.durationMs); } });
      await rlm.run({ query: "q", context: "c" });
    }
    console.log(JSON.stringify(times));`;
  const firsts = [];
  const laters = [];
  for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)); i++) {
    const times = JSON.parse(
      execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }),
    );
    firsts.push(times[0]);
    laters.push(median(times.slice(1)));
  }
  row("cold start", "first sandbox in a process", median(firsts), "ms", 100, "run start to the first cell's start");
  row("cold start", "later sandboxes", median(laters), "ms", 100, "warm worker pool");
}

// 5. memory -----------------------------------------------------------------------------------------------------------
// Each figure comes from a fresh process: peak RSS (VmHWM, reset just before the run) over the RSS before it.
// "first run" includes starting the engine (a worker thread and QuickJS, once per process); "engine warm" runs a
// small RLM first, so only what the context itself costs is left.
function memory() {
  const measure = (mb, warm) => {
    const script = `
      import { readFileSync, writeFileSync } from "node:fs";
      import { createRLM } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
      import { generateHaystack } from ${JSON.stringify(new URL("../dist/demo/index.js", import.meta.url).href)};
      const status = () => Object.fromEntries(readFileSync("/proc/self/status", "utf8").split("\\n").filter(Boolean).map((l) => l.split(/:\\s+/)));
      const kb = (s) => Number(s.split(" ")[0]) * 1024;
      const model = { modelId: "m", generate: async ({ messages }) => ({ text: messages.length > 2 ? "\`\`\`js\\nFINAL(found)\\n\`\`\`" : "\`\`\`js\\nconst found = context.match(/needle (\\\\d+)/)[1]; context.slice(0, 100).length\\n\`\`\`" }) };
      if (${warm}) await createRLM({ model }).run({ query: "q", context: "needle 42" });
      const context = generateHaystack({ chars: ${mb} * 1024 * 1024, needle: "needle 42", seed: 5 });
      context.indexOf("x"); // flatten
      for (let i = 0; i < 3; i++) { globalThis.gc?.(); await new Promise((r) => setTimeout(r, 50)); }
      writeFileSync("/proc/self/clear_refs", "5"); // reset the peak to the current RSS
      const baseline = kb(status().VmRSS);
      const result = await createRLM({ model }).run({ query: "q", context });
      if (result.answer !== "42") throw new Error("wrong answer " + result.answer);
      const peak = kb(status().VmHWM);
      console.log(JSON.stringify({ baseline, peak, bytes: context.length }));`;
    const overMb = [];
    const ratios = [];
    for (let i = 0; i < 3; i++) {
      const out = JSON.parse(
        execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8" }),
      );
      overMb.push((out.peak - out.baseline) / 2 ** 20);
      ratios.push((out.peak - out.baseline) / out.bytes);
    }
    return { ratio: median(ratios), overMb: median(overMb) };
  };
  for (const mb of [1, 10, 45]) {
    const first = measure(mb, false);
    const warm = measure(mb, true);
    row(
      "memory (peak RSS over baseline)",
      `${mb} MB context, first run in a process`,
      first.ratio,
      "x context bytes",
      1.5,
      `+${first.overMb.toFixed(1)} MB, of which ~${Math.max(0, first.overMb - warm.overMb).toFixed(0)} MB starting the engine once`,
    );
    row(
      "memory (peak RSS over baseline)",
      `${mb} MB context, engine warm`,
      warm.ratio,
      "x context bytes",
      1.5,
      `+${warm.overMb.toFixed(1)} MB`,
    );
  }
}

// 6. depth -----------------------------------------------------------------------------------------------------------
async function depth() {
  const LATENCY = 100;
  const walls = [];
  for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)); i++) {
    const model = createScriptedModel({
      latencyMs: LATENCY,
      replies: (r) => {
        const depthOf = /you have at most/i.test(r.messages[0]?.content ?? "")
          ? (r.messages[1]?.content.match(/Query: level (\d)/)?.[1] ?? "0")
          : "leaf";
        if (depthOf === "leaf") return "leaf answer";
        const level = Number(depthOf);
        if (level < 3)
          return codeReply(
            `const r = await Promise.all([0, 1, 2].map(i => rlm_query('level ${level + 1} part ' + i, context)))\nFINAL(r.join(','))`,
          );
        return codeReply("const r = await llm_query_batched(['a', 'b', 'c'])\nFINAL(r.join(','))");
      },
    });
    const t = performance.now();
    const result = await createRLM({ model, maxDepth: 3, concurrency: 200, maxIterations: 200, cache: false }).run({
      query: "level 0",
      context: "ctx",
    });
    walls.push(performance.now() - t);
    if (result.stopReason !== "final") throw new Error(`depth: ${result.stopReason}`);
  }
  const critical = 5 * LATENCY;
  row(
    "depth (3 levels, 3-way fan-out each)",
    "wall time",
    median(walls),
    "ms",
    critical,
    `critical path: 4 root turns + 1 sub-call round = ${critical} ms`,
  );
}

const only = process.argv[2];
const suites = { needle, fanOut, iterations, coldStart, memory, depth };
for (const [name, suite] of Object.entries(suites)) {
  if (only && !only.split(",").includes(name)) continue;
  log(`running ${name} ...`);
  await suite();
}

const table = [
  ["benchmark", "metric", "median", "limit", "ratio", "note"],
  ...rows.map((r) => [
    r.group,
    r.metric,
    `${r.value.toFixed(r.value < 10 ? 2 : 1)} ${r.unit}`,
    r.limit ? `${r.limit.toFixed(r.limit < 10 ? 2 : 0)}` : "",
    r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : "",
    r.note,
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
for (const [i, r] of table.entries()) {
  console.log(r.map((cell, c) => cell.padEnd(widths[c])).join("  "));
  if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
}
const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  runs: RUNS,
  rows,
};
const dir = join(here, "../../../bench/results");
mkdirSync(dir, { recursive: true });
const stamp = results.date.replace(/[:.]/g, "-");
writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
log(`results written to bench/results/${stamp}.json`);
