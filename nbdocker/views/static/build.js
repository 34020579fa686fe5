// A build, live: steps with state badges and times, a progress bar, per-step logs (tails, with
// ANSI colours as classes), the error pinned to its Dockerfile line, the summary, the layers.
//
// While a build runs the kernel sends, per update, one `delta` message with only the steps that
// changed and the new log lines; the `steps` and `head` traits hold the whole picture (re-sent
// at most every few seconds, and at the end) for views that open late or missed a message. Each
// step keeps at most TAIL_KEEP lines in the page; "show all" asks the kernel for the whole log of
// one step, a page at a time.
import { h, button, readJSON, known, logLine, seconds, token, STEP_STATES, showWhere } from "./common.js";
import { renderHistory } from "./history.js";

export const TAIL_KEEP = 200;
const BUILD_STATES = ["running", "done", "failed", "cancelled"];

// Log tails per widget model, shared by its views: messages that arrive while a view is not on
// the page (or before a second view opens) are not lost. Keyed by the model's `token` trait.
// A store goes when its model is closed, and when the last view of a finished build is removed
// (the traits then hold everything a new view needs); at most MAX_STORES stay, the oldest
// without a view going first.
export const STORES = new Map();
export const MAX_STORES = 32;

function storeFor(model) {
  const key = model.get("token") || "";
  let store = STORES.get(key);
  if (!store) {
    store = { key, tails: new Map(), steps: [], listeners: new Set(), listening: false, unbind: null, finished: false };
    STORES.set(key, store);
    trimStores();
  }
  return store;
}

/** Forget a store: its model listeners too. */
export function dropStore(store) {
  if (store.unbind) store.unbind();
  store.unbind = null;
  store.listening = false;
  if (STORES.get(store.key) === store) STORES.delete(store.key);
}

/** Keep at most MAX_STORES, dropping the oldest that no view shows. */
export function trimStores() {
  for (const store of STORES.values()) {
    if (STORES.size <= MAX_STORES) break;
    if (store.listeners.size === 0) dropStore(store);
  }
}

/** Merge new lines into a step's tail: {first, lines, total}; gaps drop what came before. */
export function mergeTail(tail, from, lines, total) {
  const t = tail || { first: from, lines: [], total: 0 };
  const end = t.first + t.lines.length;
  if (from > end || t.lines.length === 0) {
    t.first = from;
    t.lines = lines.slice();
  } else {
    const skip = end - from;
    for (let i = skip; i < lines.length; i++) t.lines.push(lines[i]);
  }
  if (t.lines.length > TAIL_KEEP) {
    const drop = t.lines.length - TAIL_KEEP;
    t.lines.splice(0, drop);
    t.first += drop;
  }
  t.total = Math.max(t.total, total || 0, t.first + t.lines.length);
  return t;
}

/** Merge changed steps (and the order of keys, when it changed) into the step list. */
export function mergeSteps(steps, changed, order) {
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const keys = steps.map((step) => step.key);
  for (const step of changed || []) {
    if (!byKey.has(step.key)) keys.push(step.key);
    byKey.set(step.key, step);
  }
  const ordered = order ? order.concat(keys.filter((key) => !order.includes(key))) : keys;
  return ordered.filter((key) => byKey.has(key)).map((key) => byKey.get(key));
}

function listen(model, store) {
  if (store.listening) return;
  store.listening = true;
  const notify = (key) => {
    for (const fn of store.listeners) fn(key);
  };
  const tailsSnapshot = () => {
    const tails = readJSON(model, "tails", {});
    for (const [key, tail] of Object.entries(tails)) {
      const have = store.tails.get(key);
      const end = tail.from + tail.lines.length;
      if (!have || end >= have.first + have.lines.length) {
        store.tails.set(key, mergeTail(null, tail.from, tail.lines, tail.count));
      }
    }
    notify(null);
  };
  const stepsSnapshot = () => {
    store.steps = readJSON(model, "steps", []);
    notify("");
  };
  const onDelta = (msg) => {
    if (!msg || msg.t !== "delta") return;
    if (msg.steps || msg.order) {
      store.steps = mergeSteps(store.steps, msg.steps, msg.order);
      notify("");
    }
    for (const [key, tail] of Object.entries(msg.tails || {})) {
      store.tails.set(key, mergeTail(store.tails.get(key), tail.from, tail.lines, tail.count));
      notify(key);
    }
  };
  tailsSnapshot();
  stepsSnapshot();
  model.on("change:tails", tailsSnapshot);
  model.on("change:steps", stepsSnapshot);
  model.on("msg:custom", onDelta);
  store.unbind = () => {
    model.off("change:tails", tailsSnapshot);
    model.off("change:steps", stepsSnapshot);
    model.off("msg:custom", onDelta);
  };
}

// anywidget calls what `initialize` returns when the model is closed.
function initializeBuildWidget({ model }) {
  const key = model.get("token") || "";
  listen(model, storeFor(model));
  return () => {
    const store = STORES.get(key);
    if (store) dropStore(store);
  };
}

export function renderBuild(el, model) {
  const store = storeFor(model);
  listen(model, store);
  const root = h("div", "nbd-widget nbd-widget-build");
  el.replaceChildren(root);

  let head = {};
  let steps = [];
  let headAt = performance.now();
  const stepViews = new Map(); // key -> {node, ..., open, mode, page}
  const userToggled = new Set();
  const dirty = new Set();
  let frame = null;
  let pending = null; // {req, key}

  const headEl = h("div", "nbd-build-head");
  const badge = h("span", "nbd-badge");
  const title = h("span", "nbd-title");
  const counts = h("span", "nbd-build-counts");
  const time = h("span", "nbd-build-time nbd-muted");
  headEl.append(badge, title, counts, time);
  const progress = h("div", "nbd-progress");
  const fill = h("div", "nbd-progress-fill");
  progress.append(fill);
  const stepsEl = h("div", "nbd-steps");
  const summary = h("div", "nbd-build-summary");
  const layers = h("div", "nbd-layers");
  root.append(headEl, progress, stepsEl, summary, layers);

  function drawHead() {
    head = readJSON(model, "head", {});
    headAt = performance.now();
    const state = known(head.state, BUILD_STATES);
    store.finished = state !== "running";
    root.dataset.state = state;
    badge.className = "nbd-badge nbd-badge-" + state;
    badge.textContent = state;
    title.textContent = `${head.builder || ""} build`;
    const total = Number(head.total) || 0;
    const done = Number(head.done) || 0;
    counts.textContent = `${done}/${total} steps` + (head.cached ? `, ${head.cached} cached` : "");
    fill.style.width = (total ? Math.min(100, (100 * done) / total) : 0) + "%";
    progress.dataset.state = state;
    progress.title = `${done} of ${total} steps`;
    summary.replaceChildren();
    for (const w of head.warnings || []) summary.append(h("div", "nbd-warning", "warning: " + w));
    for (const n of head.notes || []) summary.append(h("div", "nbd-muted nbd-note", n));
    if (head.image_id) {
      const line = h("div", "nbd-image");
      line.append(h("span", "nbd-muted", "image "), h("code", "nbd-image-id", head.image_id));
      if (head.tags && head.tags.length) line.append(h("span", "nbd-muted", " tagged "), h("span", "nbd-tags", head.tags.join(", ")));
      summary.append(line);
    }
    // The error is pinned to its step; repeated here only when no step carries it.
    const pinned = store.steps.some((s) => s.error && s.error === head.error);
    if (head.error && !pinned) summary.append(h("div", "nbd-error nbd-build-error", head.error));
    for (const v of stepViews.values()) if (v.open) markDirty(v.key);
    tick();
  }

  function tick() {
    const running = head.state === "running";
    const extra = running ? (performance.now() - headAt) / 1000 : 0;
    time.textContent = head.seconds === undefined ? "" : seconds(Number(head.seconds) + extra);
    for (const step of steps) {
      const v = stepViews.get(step.key);
      if (v) v.time.textContent = seconds(step.seconds === null ? null : step.seconds + (running && step.state === "running" ? extra : 0));
    }
  }

  function drawSteps() {
    steps = store.steps.filter((s) => !s.internal);
    const order = [];
    for (const step of steps) {
      let v = stepViews.get(step.key);
      if (!v) {
        v = makeStep(step.key);
        stepViews.set(step.key, v);
      }
      fillStep(v, step);
      order.push(v.node);
    }
    stepsEl.replaceChildren(...order);
    tick();
  }

  function makeStep(key) {
    const node = h("div", "nbd-step");
    const row = h("div", "nbd-step-row");
    const toggle = h("button", "nbd-toggle", "▸");
    toggle.type = "button";
    const badge = h("span", "nbd-badge");
    const line = h("span", "nbd-step-line nbd-muted");
    const name = h("span", "nbd-step-name");
    const loglines = h("span", "nbd-step-loglines nbd-muted");
    const time = h("span", "nbd-step-time nbd-muted");
    row.append(toggle, badge, line, name, loglines, time);
    const pin = h("div", "nbd-error-pin");
    const log = h("div", "nbd-log");
    node.append(row, pin, log);
    const v = { key, node, toggle, badge, line, name, loglines, time, pin, log, open: false, mode: "tail", step: null, shown: null };
    row.addEventListener("click", () => {
      userToggled.add(key);
      setOpen(v, !v.open);
    });
    return v;
  }

  function fillStep(v, step) {
    const state = known(step.state, STEP_STATES);
    v.step = step;
    v.node.dataset.state = state;
    v.badge.className = "nbd-badge nbd-badge-" + state;
    v.badge.textContent = state === "queued" ? "waiting" : state;
    v.line.textContent = step.lines ? "line " + step.lines : "";
    v.name.textContent = step.name;
    countLines(v);
    v.pin.replaceChildren();
    v.pin.hidden = !step.error;
    if (step.error) {
      // The error pinned to the Dockerfile line that failed.
      if (step.source) {
        const where = h("div", "nbd-pin-source");
        where.append(h("span", "nbd-muted", step.lines ? `line ${step.lines} │ ` : ""), h("span", "", step.source));
        v.pin.append(where);
      }
      v.pin.append(h("div", "nbd-error", step.error));
    }
    if (!userToggled.has(v.key)) {
      const want = state === "failed" || (state === "running" && step.log_lines > 0);
      if (want !== v.open) setOpen(v, want);
    }
    if (v.open) markDirty(v.key);
  }

  // The step's line count: from the step list, or from newer log messages.
  function countLines(v) {
    const tail = store.tails.get(v.key);
    const count = Math.max((v.step && v.step.log_lines) || 0, tail ? tail.total : 0);
    v.loglines.textContent = count ? `${count} line${count === 1 ? "" : "s"}` : "";
  }

  function setOpen(v, open) {
    v.open = open;
    v.toggle.textContent = open ? "▾" : "▸";
    v.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    v.node.classList.toggle("nbd-open", open);
    v.log.hidden = !open;
    if (open) drawLog(v);
    else {
      v.log.replaceChildren();
      v.shown = null;
    }
  }

  function markDirty(key) {
    dirty.add(key);
    if (frame === null) {
      frame = requestAnimationFrame(() => {
        frame = null;
        for (const k of dirty) {
          const v = stepViews.get(k);
          if (v && v.open && v.mode === "tail") drawLog(v);
        }
        dirty.clear();
      });
    }
  }

  // Tail mode: at most TAIL_KEEP lines; contiguous new lines are appended, the oldest removed.
  function drawLog(v) {
    if (v.mode !== "tail") return;
    const tail = store.tails.get(v.key) || { first: 0, lines: [], total: 0 };
    const total = Math.max(tail.total, (v.step && v.step.log_lines) || 0);
    v.log.dataset.state = "tail";
    let more = v.log.querySelector(".nbd-log-more");
    let lines = v.log.querySelector(".nbd-log-lines");
    if (!lines) {
      more = h("div", "nbd-log-more");
      lines = h("div", "nbd-log-lines");
      v.log.replaceChildren(more, lines);
      v.shown = null;
    }
    const end = tail.first + tail.lines.length;
    if (!tail.lines.length) {
      lines.replaceChildren(h("div", "nbd-muted", v.step && v.step.state === "cached" ? "cached: no output" : "no output"));
      v.shown = null;
    } else if (v.shown && tail.first <= v.shown.end && v.shown.end <= end && v.shown.first <= tail.first) {
      for (let i = v.shown.end - tail.first; i < tail.lines.length; i++) lines.append(logLine(tail.lines[i][0], tail.lines[i][1]));
      for (let drop = tail.first - v.shown.first; drop > 0 && lines.firstChild; drop--) lines.firstChild.remove();
    } else {
      lines.replaceChildren(...tail.lines.map(([stream, text]) => logLine(stream, text)));
    }
    if (tail.lines.length) v.shown = { first: tail.first, end };
    const earlier = Math.max(0, total - tail.lines.length);
    more.replaceChildren();
    if (earlier > 0) {
      more.append(h("span", "nbd-muted", `… ${earlier} earlier line${earlier === 1 ? "" : "s"} `));
    }
    if (earlier > 0 && head.full_log) {
      more.append(button("nbd-show-all", `show all ${total} lines`, () => askPage(v, 0)));
    } else if (earlier > 0 && head.state !== "running") {
      more.append(h("span", "nbd-muted", "(the whole log: keep the result with --out NAME, then NAME.step_log(…))"));
    }
  }

  function askPage(v, page) {
    const req = token();
    pending = { req, key: v.key };
    v.mode = "all";
    v.log.dataset.state = "loading";
    v.log.replaceChildren(h("div", "nbd-muted", "asking the kernel for the whole log (it answers when it is idle)…"));
    model.send({ t: "log", key: v.key, page, req });
  }

  function showPage(msg) {
    if (!msg || msg.t !== "page" || !pending || msg.req !== pending.req) return;
    pending = null;
    const v = stepViews.get(msg.key);
    if (!v) return;
    v.mode = "all";
    v.log.dataset.state = "all";
    const back = button("nbd-back", "back to the tail", () => {
      v.mode = "tail";
      v.log.replaceChildren();
      v.shown = null;
      drawLog(v);
    });
    if (msg.error) {
      v.log.replaceChildren(h("div", "nbd-error", msg.error), back);
      return;
    }
    const pager = h("div", "nbd-pager");
    const start = msg.page * msg.page_lines;
    const stop = start + msg.lines.length;
    const earlierButton = button("nbd-earlier", "‹ earlier", () => askPage(v, msg.page - 1));
    earlierButton.disabled = msg.page <= 0;
    const laterButton = button("nbd-later", "later ›", () => askPage(v, msg.page + 1));
    laterButton.disabled = msg.page >= msg.pages - 1;
    pager.append(earlierButton, h("span", "nbd-page", `lines ${msg.lines.length ? start + 1 : 0}–${stop} of ${msg.total}`), laterButton, back);
    const lines = h("div", "nbd-log-lines");
    for (const text of msg.lines) lines.append(logLine(1, text));
    v.log.replaceChildren(pager, lines);
  }

  function drawLayers() {
    layers.replaceChildren();
    const data = readJSON(model, "layers", null);
    if (data && Array.isArray(data.rows)) renderHistory(layers, data);
  }

  // key "": the step list changed; null: every tail was replaced; else one step's new lines.
  const onTail = (key) => {
    if (key === "") {
      drawSteps();
    } else if (key === null) {
      for (const v of stepViews.values()) if (v.open) markDirty(v.key);
    } else if (stepViews.has(key)) {
      const v = stepViews.get(key);
      countLines(v);
      if (v.open) markDirty(key);
      else if (v.step && v.step.state === "running" && !userToggled.has(key)) setOpen(v, true);
    }
  };
  store.listeners.add(onTail);

  drawHead();
  drawSteps();
  drawLayers();
  model.on("change:head", drawHead);
  model.on("change:layers", drawLayers);
  model.on("msg:custom", showPage);
  const timer = setInterval(() => head.state === "running" && tick(), 250);
  return () => {
    clearInterval(timer);
    store.listeners.delete(onTail);
    model.off("change:head", drawHead);
    model.off("change:layers", drawLayers);
    model.off("msg:custom", showPage);
    // A finished build's traits hold its steps and tails: a view shown later rebuilds from them.
    if (store.finished && store.listeners.size === 0) dropStore(store);
  };
}

function renderBuildWidget({ model, el }) {
  const stop = renderBuild(el, model);
  showWhere(el, model);
  return stop;
}

export default { initialize: initializeBuildWidget, render: renderBuildWidget };
