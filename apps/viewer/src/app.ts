import {
  assignLanes,
  buildModel,
  oneLine,
  parseTrajectory,
  searchNodes,
  type TrajectoryModel,
  type TreeNode,
  visibleRows,
} from "./trajectory-model.js";

const ROW_HEIGHT = 26;
const OVERSCAN = 10;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, attrs: Record<string, string> = {}, text?: string) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};
const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`);
const num = (n: number) => n.toLocaleString("en-US");

interface State {
  model: TrajectoryModel;
  expanded: Set<string>;
  filter: Set<string> | undefined;
  selected: string | undefined;
  rows: TreeNode[];
}
let state: State | undefined;

/** Shows a trajectory, or a clear error for anything else. */
export function load(text: string, source: string): void {
  try {
    const model = buildModel(parseTrajectory(text));
    const expanded = new Set<string>();
    for (const node of model.nodes.values()) if (node.depth === 0 && node.kind !== "subcall") expanded.add(node.id);
    state = { model, expanded, filter: undefined, selected: model.rootId, rows: [] };
    $("error").hidden = true;
    $("hint").hidden = true;
    $("viewer").hidden = false;
    $("source").textContent = source;
    renderSummary(model);
    renderTimeline(model);
    refreshTree();
    renderDetail();
  } catch (error) {
    showError(`Cannot show ${source}: ${(error as Error).message}`);
  }
}

function showError(message: string): void {
  state = undefined;
  $("viewer").hidden = true;
  $("hint").hidden = true;
  const box = $("error");
  box.hidden = false;
  box.textContent = message;
}

function renderSummary(model: TrajectoryModel): void {
  const root = model.trajectory.root;
  const box = $("summary");
  box.replaceChildren();
  box.append(el("div", { class: "query" }, root.query));
  const facts = el("div", { class: "facts" });
  const fact = (label: string, value: string, id: string) => {
    const f = el("span", { class: "fact", id });
    f.append(el("b", {}, label), document.createTextNode(` ${value}`));
    facts.append(f);
  };
  fact("stop", root.stopReason ?? (root.error ? "error" : "unfinished"), "fact-stop");
  fact("time", ms(model.endedAt - model.startedAt), "fact-time");
  fact("tokens", num(model.totals.tokens), "fact-tokens");
  fact("iterations", num(model.totals.iterations), "fact-iterations");
  fact("sub-calls", num(model.totals.subcalls), "fact-subcalls");
  fact("runs", num(model.totals.runs), "fact-runs");
  fact("max in flight", num(model.totals.maxConcurrency), "fact-concurrency");
  box.append(facts);
  const answer = el("div", { class: "answer", id: "answer" });
  answer.append(
    el("b", {}, root.error ? "Error: " : "Answer: "),
    document.createTextNode(root.error ? root.error.message : (root.answer ?? "(none)")),
  );
  box.append(answer);
}

// ---- call tree (virtualised) ---------------------------------------------------------------------------------------

function refreshTree(): void {
  if (!state) return;
  state.rows = visibleRows(state.model, state.expanded, state.filter);
  $("tree-spacer").style.height = `${state.rows.length * ROW_HEIGHT}px`;
  $("tree").dataset.rows = String(state.rows.length);
  renderTreeWindow();
}

function renderTreeWindow(): void {
  if (!state) return;
  const tree = $("tree");
  const first = Math.max(0, Math.floor(tree.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(state.rows.length, Math.ceil((tree.scrollTop + tree.clientHeight) / ROW_HEIGHT) + OVERSCAN);
  const layer = $("tree-rows");
  layer.replaceChildren();
  for (let i = first; i < last; i++) {
    const node = state.rows[i] as TreeNode;
    const row = el("div", {
      class: `row kind-${node.kind}${node.id === state.selected ? " selected" : ""}${node.error ? " failed" : ""}`,
      "data-id": node.id,
      "data-kind": node.kind,
      role: "treeitem",
      "aria-level": String(node.level + 1),
    });
    row.style.top = `${i * ROW_HEIGHT}px`;
    row.style.paddingLeft = `${8 + node.level * 16}px`;
    const toggle = el(
      "span",
      { class: "toggle" },
      node.children.length ? (state.expanded.has(node.id) || state.filter ? "▾" : "▸") : "·",
    );
    row.append(toggle, el("span", { class: "label" }, node.label));
    const meta = [node.tokens ? `${num(node.tokens)} tok` : "", ms(node.endedAt - node.startedAt)]
      .filter(Boolean)
      .join(" · ");
    row.append(el("span", { class: "meta" }, meta));
    layer.append(row);
  }
}

function onTreeClick(event: MouseEvent): void {
  if (!state) return;
  const row = (event.target as HTMLElement).closest<HTMLElement>(".row");
  const id = row?.dataset.id;
  if (!id) return;
  const node = state.model.nodes.get(id);
  if ((event.target as HTMLElement).classList.contains("toggle") && node?.children.length) {
    if (state.expanded.has(id)) state.expanded.delete(id);
    else state.expanded.add(id);
    refreshTree();
    return;
  }
  select(id);
}

function select(id: string): void {
  if (!state) return;
  state.selected = id;
  // Make sure the node is visible: expand its ancestors.
  for (let n = state.model.nodes.get(id); n?.parentId; n = state.model.nodes.get(n.parentId))
    state.expanded.add(n.parentId);
  refreshTree();
  const index = state.rows.findIndex((r) => r.id === id);
  const tree = $("tree");
  if (
    index >= 0 &&
    (index * ROW_HEIGHT < tree.scrollTop || index * ROW_HEIGHT > tree.scrollTop + tree.clientHeight - ROW_HEIGHT)
  ) {
    tree.scrollTop = Math.max(0, index * ROW_HEIGHT - tree.clientHeight / 2);
    renderTreeWindow();
  }
  for (const bar of document.querySelectorAll(".bar.selected")) bar.classList.remove("selected");
  document.querySelector(`.bar[data-id="${CSS.escape(id)}"]`)?.classList.add("selected");
  renderDetail();
}

// ---- detail panel ----------------------------------------------------------------------------------------------------

function renderDetail(): void {
  const box = $("detail");
  box.replaceChildren();
  const node = state?.selected ? state.model.nodes.get(state.selected) : undefined;
  if (!node) return;
  box.dataset.kind = node.kind;
  box.append(el("h2", {}, node.label));
  const line = (label: string, value: string) => {
    const p = el("p", { class: "kv" });
    p.append(el("b", {}, `${label} `), document.createTextNode(value));
    box.append(p);
  };
  const block = (label: string, text: string, cls = "") => {
    box.append(el("h3", {}, label));
    box.append(el("pre", { class: cls }, text));
  };
  line("time", `${ms(node.endedAt - node.startedAt)} (from +${ms(node.startedAt - (state?.model.startedAt ?? 0))})`);
  if (node.tokens) line("tokens", num(node.tokens));
  if (node.error) block("Error", node.error, "error-text");
  if (node.run) {
    const r = node.run;
    line("models", `${r.modelId} (root), ${r.subModelId} (sub)`);
    line(
      "context",
      `${r.context.type}, ${num(r.context.totalChars)} characters${r.context.parts !== undefined ? `, ${num(r.context.parts)} parts` : ""}`,
    );
    line("stop reason", r.stopReason ?? "—");
    block("Query", r.query);
    block("Answer", r.answer ?? "(none)");
  } else if (node.iteration) {
    const it = node.iteration;
    line("prompt size", `${num(it.promptChars)} characters`);
    if (it.response)
      line(
        "usage",
        `${num(it.response.usage.inputTokens)} in, ${num(it.response.usage.outputTokens)} out, ${ms(it.response.durationMs)}`,
      );
    for (const retry of it.retries)
      line("retry", `attempt ${retry.attempt} after ${ms(retry.delayMs)}: ${retry.error}`);
    block("New messages in the request", it.request.map((m) => `[${m.role}]\n${m.content}`).join("\n\n"));
    block("Model reply", it.response?.text ?? "(no reply)");
  } else if (node.cell) {
    const c = node.cell;
    line("cpu", ms(c.cpuMs));
    if (c.sandboxReset) line("sandbox", "restarted during this cell (variables lost)");
    block("Code", c.code, "code");
    block(
      c.truncated ? `Output (truncated: ${num(c.output.length)} of ${num(c.outputChars)} characters shown)` : "Output",
      c.output || "(no output)",
      c.truncated ? "truncated" : "",
    );
  } else if (node.subcall) {
    const s = node.subcall;
    line(
      "kind",
      `${s.kind}${s.kind === "tool" ? ` (${s.target})` : ` → ${s.target}`}${s.cached ? ", cached" : ""}${s.batch ? `, batch item ${s.batch.index + 1} of ${s.batch.size}` : ""}`,
    );
    if (s.usage) line("usage", `${num(s.usage.inputTokens)} in, ${num(s.usage.outputTokens)} out`);
    block("Prompt", s.prompt);
    block("Response", s.response ?? (s.error ? "(failed)" : "(none)"));
    if (s.child) {
      const link = el("button", { class: "link", "data-target": s.child.runId }, "Open the child run");
      box.append(link);
    }
  }
}

// ---- timeline ------------------------------------------------------------------------------------------------------------

function renderTimeline(model: TrajectoryModel): void {
  const host = $("timeline");
  host.replaceChildren();
  const all = [...model.nodes.values()];
  const calls = all.filter((n) => n.kind === "subcall");
  const turns = all.filter((n) => n.kind === "iteration");
  const { lanes, count } = assignLanes(
    calls.map((c) => ({ start: c.startedAt, end: Math.max(c.endedAt, c.startedAt + 1) })),
  );
  const span = Math.max(1, model.endedAt - model.startedAt);
  const width = Math.max(600, host.clientWidth - 16);
  const laneHeight = count > 60 ? 4 : count > 20 ? 8 : 14;
  const top = 40;
  const height = top + Math.max(1, count) * (laneHeight + 2) + 20;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("data-lanes", String(count));
  svg.setAttribute("data-max-concurrency", String(model.totals.maxConcurrency));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Timeline: ${calls.length} sub-calls on ${count} lanes`);
  const x = (t: number) => ((t - model.startedAt) / span) * (width - 20) + 10;
  const rect = (node: TreeNode, y: number, h: number, cls: string) => {
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("x", x(node.startedAt).toFixed(1));
    r.setAttribute("y", String(y));
    r.setAttribute("width", Math.max(1.5, x(node.endedAt) - x(node.startedAt)).toFixed(1));
    r.setAttribute("height", String(h));
    r.setAttribute("class", `bar ${cls}${node.error ? " failed" : ""}`);
    r.setAttribute("data-id", node.id);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${oneLine(node.label, 120)} — ${ms(node.endedAt - node.startedAt)}`;
    r.append(title);
    svg.append(r);
    return r;
  };
  for (let i = 0; i <= 4; i++) {
    const t = model.startedAt + (span * i) / 4;
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", x(t).toFixed(1));
    label.setAttribute("y", "10");
    label.setAttribute("class", "tick");
    label.textContent = ms(t - model.startedAt);
    svg.append(label);
  }
  for (const turn of turns) rect(turn, 16, 14, `turn depth-${turn.depth}`);
  calls.forEach((call, i) => {
    const y = top + (lanes[i] ?? 0) * (laneHeight + 2);
    const bar = rect(call, y, laneHeight, `call depth-${call.depth}`);
    bar.setAttribute("data-lane", String(lanes[i] ?? 0));
    if (call.queuedMs) {
      // The wait for a concurrency permit, drawn faint in front of the request itself.
      const wait = document.createElementNS(ns, "rect");
      wait.setAttribute("x", x(call.startedAt).toFixed(1));
      wait.setAttribute("y", String(y));
      wait.setAttribute("width", Math.max(0, x(call.startedAt + call.queuedMs) - x(call.startedAt)).toFixed(1));
      wait.setAttribute("height", String(laneHeight));
      wait.setAttribute("class", "queued");
      wait.setAttribute("data-id", call.id);
      svg.append(wait);
    }
  });
  host.append(svg);
  $("timeline-caption").textContent =
    `Model turns (top row) and ${num(calls.length)} sub-calls, laid out so that calls running at the same time sit side by side (faint: waiting for a concurrency slot): ${num(count)} lanes, at most ${num(model.totals.maxConcurrency)} requests in flight.`;
}

// ---- wiring ------------------------------------------------------------------------------------------------------------------

function readFile(file: File): void {
  file.text().then(
    (text) => load(text, file.name),
    (error: unknown) => showError(`Cannot read ${file.name}: ${String(error)}`),
  );
}

export function start(): void {
  $("tree").addEventListener("scroll", () => renderTreeWindow());
  $("tree").addEventListener("click", onTreeClick);
  $("timeline").addEventListener("click", (event) => {
    const id = (event.target as Element).getAttribute("data-id");
    if (id) select(id);
  });
  $("detail").addEventListener("click", (event) => {
    const target = (event.target as HTMLElement).dataset.target;
    if (target) select(target);
  });
  $<HTMLInputElement>("file").addEventListener("change", (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) readFile(file);
  });
  $<HTMLInputElement>("search").addEventListener("input", (event) => {
    if (!state) return;
    const term = (event.target as HTMLInputElement).value.trim();
    state.filter = term ? searchNodes(state.model, term) : undefined;
    $("search-count").textContent = state.filter ? `${state.filter.size} matching nodes (with their parents)` : "";
    refreshTree();
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer?.files[0];
    if (file) readFile(file);
  });
  const src = new URLSearchParams(location.search).get("src");
  if (src) {
    fetch(src).then(
      async (response) =>
        response.ok ? load(await response.text(), src) : showError(`Cannot load ${src}: HTTP ${response.status}`),
      (error: unknown) => showError(`Cannot load ${src}: ${String(error)}`),
    );
  }
}
