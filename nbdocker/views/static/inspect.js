// `%docker inspect`: a summary card per object above its JSON as a collapsible tree, with a
// search box and the path of the selected node (shown as text, copied where the browser allows).
import { h, button, readJSON, copyText, selectText, showWhere } from "./common.js";

const MAX_MARKED = 200; // search matches opened and marked; the count says how many there are

/** The Python path of a node: `[0]["Config"]["Env"][0]` works on an InspectResult. */
export function pathText(path) {
  return path.map((k) => (typeof k === "number" ? `[${k}]` : `[${JSON.stringify(k)}]`)).join("");
}

function isContainer(value) {
  return value !== null && typeof value === "object" && Object.keys(value).length > 0;
}

function entries(value) {
  return Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
}

/** Render an InspectView ({items, summaries}) into `container`. */
export function renderInspect(container, data) {
  const items = Array.isArray(data.items) ? data.items : [];
  const summaries = Array.isArray(data.summaries) ? data.summaries : [];
  const root = h("div", "nbd-inspect");
  const nodes = new Map(); // pathText -> {node, open()}
  let marked = [];

  const tools = h("div", "nbd-toolbar");
  const search = h("input", "nbd-search");
  search.type = "search";
  search.placeholder = "search keys and values";
  const matches = h("span", "nbd-matches nbd-muted");
  tools.append(search, matches);
  const pathBar = h("div", "nbd-pathbar");
  const pathLabel = h("span", "nbd-muted", "path: ");
  const path = h("code", "nbd-path", "");
  const copyState = h("span", "nbd-copy-state nbd-muted");
  const copy = button("nbd-copy", "copy", () => {
    if (!path.textContent) return;
    copyText(path.textContent).then((ok) => {
      copyState.textContent = ok ? "copied" : "selected: press Ctrl+C to copy";
      if (!ok) selectText(path);
    });
  });
  pathBar.append(pathLabel, path, copy, copyState);
  pathBar.hidden = true;
  root.append(tools, pathBar);

  function choose(keys) {
    path.textContent = pathText(keys);
    pathBar.hidden = false;
    copyState.textContent = "";
    for (const old of root.querySelectorAll(".nbd-node-row.nbd-selected")) old.classList.remove("nbd-selected");
    const entry = nodes.get(path.textContent);
    if (entry) entry.row.classList.add("nbd-selected");
  }

  function makeNode(key, value, keys, depth) {
    const node = h("div", "nbd-node");
    const row = h("div", "nbd-node-row");
    const keyEl = h("span", "nbd-key", typeof key === "number" ? String(key) : key);
    keyEl.title = "select to show its path";
    keyEl.addEventListener("click", () => choose(keys));
    const entry = { node, row, open: () => {} };
    nodes.set(pathText(keys), entry);
    if (isContainer(value)) {
      const toggle = h("button", "nbd-toggle", "▸");
      toggle.type = "button";
      const kids = h("div", "nbd-children");
      let built = false;
      const setOpen = (open) => {
        if (open && !built) {
          for (const [k, v] of entries(value)) kids.append(makeNode(k, v, keys.concat([k]), depth + 1));
          built = true;
        }
        kids.hidden = !open;
        node.dataset.state = open ? "open" : "closed";
        toggle.textContent = open ? "▾" : "▸";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      };
      toggle.addEventListener("click", () => setOpen(node.dataset.state !== "open"));
      entry.open = () => setOpen(true);
      const size = Array.isArray(value) ? `[${value.length} items]` : `{${Object.keys(value).length} keys}`;
      row.append(toggle, keyEl, h("span", "nbd-muted nbd-size", " " + size));
      node.append(row, kids);
      setOpen(false);
    } else {
      node.dataset.state = "leaf";
      const shown = JSON.stringify(value);
      const kind = value === null ? "null" : typeof value;
      row.append(h("span", "nbd-spacer"), keyEl, h("span", "nbd-muted", ": "),
        h("span", "nbd-value nbd-v-" + (["string", "number", "boolean", "null"].includes(kind) ? kind : "other"),
          shown === undefined ? String(value) : shown));
      node.append(row);
    }
    return node;
  }

  items.forEach((item, i) => {
    const section = h("div", "nbd-item");
    const summary = Array.isArray(summaries[i]) ? summaries[i] : [];
    if (summary.length) {
      const card = h("table", "nbd-summary");
      for (const pair of summary) {
        const tr = h("tr");
        tr.append(h("th", "", pair[0]), h("td", "", pair[1]));
        card.append(tr);
      }
      section.append(card);
    }
    const tree = h("div", "nbd-tree");
    if (isContainer(item)) {
      for (const [k, v] of entries(item)) tree.append(makeNode(k, v, [i, k], 0));
    } else {
      tree.append(h("code", "", JSON.stringify(item)));
    }
    section.append(tree);
    root.append(section);
  });

  // Search walks the data (not the DOM: children are built when first opened), then opens the
  // ancestors of the first matches and marks them.
  function find(query) {
    for (const row of marked) row.classList.remove("nbd-match");
    marked = [];
    const q = query.trim().toLowerCase();
    if (!q) {
      matches.textContent = "";
      return;
    }
    const found = [];
    const walk = (value, keys) => {
      for (const [k, v] of entries(value)) {
        const here = keys.concat([k]);
        const hit = String(k).toLowerCase().includes(q)
          || (!isContainer(v) && JSON.stringify(v) !== undefined && JSON.stringify(v).toLowerCase().includes(q));
        if (hit) found.push(here);
        if (isContainer(v)) walk(v, here);
      }
    };
    items.forEach((item, i) => isContainer(item) && walk(item, [i]));
    for (const keys of found.slice(0, MAX_MARKED)) {
      for (let n = 2; n < keys.length; n++) {
        const parent = nodes.get(pathText(keys.slice(0, n)));
        if (parent) parent.open();
      }
      const entry = nodes.get(pathText(keys));
      if (entry) {
        entry.row.classList.add("nbd-match");
        marked.push(entry.row);
      }
    }
    matches.textContent = found.length === 1 ? "1 match"
      : `${found.length} matches` + (found.length > MAX_MARKED ? ` (first ${MAX_MARKED} marked)` : "");
    if (marked.length) marked[0].scrollIntoView({ block: "nearest" });
  }
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => find(search.value), 120);
  });

  container.append(root);
  return root;
}

function renderInspectWidget({ model, el }) {
  const host = h("div", "nbd-widget nbd-widget-inspect");
  el.replaceChildren(host);
  showWhere(el, model);
  const draw = () => {
    host.replaceChildren();
    renderInspect(host, readJSON(model, "data", { items: [] }));
    host.dataset.state = "ready";
  };
  draw();
  model.on("change:data", draw);
  return () => model.off("change:data", draw);
}

export default { render: renderInspectWidget };
