// `%docker layers`: the layer list (size bars, line, command), the selected layer's file tree
// (virtualised: only the rows in view exist), a path filter, "only this layer's changes", sort by
// size, aggregate directory sizes, and the wasted-space table. Every path, link and command is
// put into the page as text.
import { h, checkbox, readJSON, known, humanSize, showWhere } from "./common.js";

const ROW = 20; // px per tree row: the scroller's height is rows × ROW
const ACTIONS = ["added", "modified", "unchanged", "removed"];
const SIGNS = { added: "+", modified: "~", unchanged: "=", removed: "-" };

/** The image as of layer `upto` (merged), or only what that layer changed: path → its change
 * ([path, action, size, kind, link], as the kernel sent it: no copy per file). */
export function filesAt(changes, upto, onlyThis) {
  const files = new Map();
  const from = onlyThis ? upto : 0;
  for (let i = from; i <= upto; i++) {
    for (const change of changes[i] || []) {
      const path = change[0];
      if (change[1] === "removed" && !onlyThis) {
        files.delete(path);
        const prefix = path === "/" ? "/" : path + "/";
        for (const key of files.keys()) if (key.startsWith(prefix)) files.delete(key);
        continue;
      }
      files.set(path, change);
    }
  }
  return files;
}

function node(name, path) {
  return { name, path, size: 0, own: 0, children: null, count: 0, action: "", kind: "", link: "" };
}

/** A tree of directories (aggregate sizes) from a path map; files matching `filter` only. */
export function buildTree(files, filter) {
  const root = node("/", "/");
  root.children = new Map();
  const needle = (filter || "").toLowerCase();
  for (const [path, change] of files) {
    if (needle && !path.toLowerCase().includes(needle)) continue;
    let at = root;
    let start = 1;
    while (true) {
      const slash = path.indexOf("/", start);
      const last = slash < 0;
      const name = last ? path.slice(start) : path.slice(start, slash);
      if (at.children === null) at.children = new Map();
      let child = at.children.get(name);
      if (child === undefined) {
        child = node(name, last ? path : path.slice(0, slash));
        at.children.set(name, child);
      }
      if (last) {
        child.own = Number(change[2]) || 0;
        child.action = change[1];
        child.kind = change[3];
        child.link = change[4] || "";
        break;
      }
      at = child;
      start = slash + 1;
    }
  }
  (function total(n) {
    let size = n.own;
    let count = n.children === null ? 1 : 0;
    if (n.children !== null) {
      for (const child of n.children.values()) {
        total(child);
        size += child.size;
        count += child.count;
      }
    }
    n.size = n.action === "removed" ? n.own : size; // what a removal hid, not stacked on top
    n.count = count;
  })(root);
  return root;
}

/** The visible rows: expanded directories' children, sorted by name or by size. */
export function flatten(root, expanded, bySize, openAll) {
  const rows = [];
  const order = (a, b) => (bySize ? b.size - a.size || (a.name < b.name ? -1 : 1) : a.name < b.name ? -1 : 1);
  (function walk(node, depth) {
    const kids = [...node.children.values()].sort(order);
    for (const child of kids) {
      rows.push({ node: child, depth });
      if (child.children !== null && (openAll || expanded.has(child.path))) walk(child, depth + 1);
    }
  })(root, 0);
  return rows;
}

/** Render the explorer (the kernel's LayersView as JSON) into `container`. */
export function renderLayers(container, data) {
  const root = h("div", "nbd-layers-explorer");
  const layers = Array.isArray(data.layers) ? data.layers : [];
  const changes = Array.isArray(data.changes) ? data.changes : [];
  const state = { layer: layers.length ? layers.length - 1 : 0, onlyThis: false, bySize: false, filter: "",
                  expanded: new Set() };
  if (data.title) root.append(h("div", "nbd-title", data.title));
  root.append(summaryLine(data.summary || []));
  const list = layerList(layers, (index) => select(index));
  const tree = fileTree(changes, state, root);
  root.append(list, toolbar(state, tree), tree.scroller, wastedTable(data.wasted || []));
  function select(index) {
    state.layer = index;
    for (const tr of list.tBodies[0].children) tr.dataset.state = Number(tr.dataset.index) === index ? "selected" : "";
    tree.redraw();
  }
  container.append(root);
  select(state.layer);
  root.dataset.state = "ready";
  return root;
}

function summaryLine(summary) {
  const line = h("div", "nbd-layers-summary");
  for (const [key, value] of summary) {
    const item = h("span", "nbd-summary-item");
    const label = h("span", "nbd-summary-key", key + ": ");
    label.style.fontWeight = "bold";
    item.style.marginRight = "14px";
    item.append(label, document.createTextNode(String(value)));
    line.append(item);
  }
  return line;
}

function layerList(layers, onSelect) {
  const list = h("table", "nbd-table nbd-layer-list");
  const head = h("tr");
  for (const title of ["#", "LINE", "SIZE", "", "+", "~", "-", "COMMAND"]) head.append(h("th", "", title));
  list.append(h("thead"));
  list.tHead.append(head);
  const body = h("tbody");
  const largest = layers.reduce((m, l) => Math.max(m, Number(l.size_bytes) || 0), 0);
  layers.forEach((layer, index) => body.append(layerRow(layer, index, largest, () => onSelect(index))));
  list.append(body);
  return list;
}

function toolbar(state, tree) {
  const bar = h("div", "nbd-toolbar");
  const search = h("input", "nbd-filter");
  search.type = "search";
  search.placeholder = "filter paths";
  search.addEventListener("input", () => { state.filter = search.value; tree.redraw(); });
  bar.append(search);
  bar.append(checkbox("nbd-only-layer", "only this layer's changes", false, (v) => { state.onlyThis = v; tree.redraw(); }));
  bar.append(checkbox("nbd-by-size", "sort by size", false, (v) => { state.bySize = v; tree.redraw(false); }));
  bar.append(tree.count);
  return bar;
}

/** The virtualised tree: a fixed-height scroller holding only the rows in view. */
function fileTree(changes, state, root) {
  const scroller = h("div", "nbd-ltree");
  const spacer = h("div", "nbd-ltree-spacer");
  const windowEl = h("div", "nbd-ltree-window");
  // Layout of our own making (constants, never data): a fixed-height scroller whose spacer is as
  // tall as all rows, and a window of the rows in view moved to where they belong.
  Object.assign(scroller.style, { height: "360px", overflowY: "auto", position: "relative",
                                  border: "1px solid #ddd", marginTop: "4px" });
  Object.assign(windowEl.style, { position: "absolute", top: "0", left: "0", right: "0" });
  scroller.append(spacer, windowEl);
  const count = h("span", "nbd-count");
  let tree = null;
  let rows = [];
  let files = null;
  let filesKey = "";
  function redraw(rebuild = true) {
    const key = state.layer + ":" + state.onlyThis;
    if (key !== filesKey) {  // the merged files change with the layer; a filter reuses them
      files = filesAt(changes, state.layer, state.onlyThis);
      filesKey = key;
    }
    if (rebuild || !tree) tree = buildTree(files, state.filter);
    rows = flatten(tree, state.expanded, state.bySize, Boolean(state.filter));
    spacer.style.height = rows.length * ROW + "px";
    count.textContent = `${tree.count} paths, ${rows.length} rows`;
    root.dataset.layer = String(state.layer);
    paint();
  }
  function paint() {
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW) - 5);
    const visible = Math.ceil((scroller.clientHeight || 400) / ROW) + 10;
    const nodes = [];
    for (let i = first; i < Math.min(rows.length, first + visible); i++) {
      nodes.push(treeRow(rows[i], i, state, () => redraw(false)));
    }
    windowEl.style.transform = `translateY(${first * ROW}px)`;
    windowEl.replaceChildren(...nodes);
  }
  scroller.addEventListener("scroll", () => paint());
  return { scroller, count, redraw };
}

function treeRow({ node, depth }, index, state, onToggle) {
  const row = h("div", "nbd-ltree-row");
  Object.assign(row.style, { height: ROW + "px", lineHeight: ROW + "px", whiteSpace: "nowrap",
                             cursor: node.children !== null ? "pointer" : "default", display: "flex", gap: "6px" });
  row.dataset.action = known(node.action, ACTIONS, "");
  row.dataset.index = String(index);
  row.style.paddingLeft = depth * 14 + "px";
  const open = state.expanded.has(node.path) || state.filter;
  row.append(h("span", "nbd-ltree-toggle", node.children !== null ? (open ? "▾" : "▸") : ""),
             h("span", "nbd-ltree-sign", SIGNS[node.action] || " "),
             h("span", "nbd-ltree-name", node.name + (node.children !== null || node.kind === "dir" ? "/" : "")));
  row.title = node.path;
  if (node.link) row.append(h("span", "nbd-ltree-link", " → " + node.link));
  const size = h("span", "nbd-ltree-size", humanSize(node.size));
  Object.assign(size.style, { marginLeft: "auto", paddingRight: "8px" });
  row.append(size);
  if (node.children !== null) {
    row.addEventListener("click", () => {
      if (state.expanded.has(node.path)) state.expanded.delete(node.path);
      else state.expanded.add(node.path);
      onToggle();
    });
  }
  return row;
}

function layerRow(layer, index, largest, onSelect) {
  const tr = h("tr", "nbd-layer-row");
  tr.dataset.index = String(index);
  tr.append(h("td", "num", layer.index), h("td", "nbd-line", layer.line ? "line " + layer.line : ""));
  tr.append(h("td", "num", layer.size));
  const barCell = h("td", "nbd-bar-cell");
  const fill = h("span", "nbd-bar");
  const size = Number(layer.size_bytes) || 0;
  fill.style.width = (largest ? Math.max(size ? 1 : 0, Math.round((100 * size) / largest)) : 0) + "%";
  barCell.append(fill);
  tr.append(barCell, h("td", "num", layer.added), h("td", "num", layer.modified), h("td", "num", layer.removed));
  const command = h("td", "nbd-command", layer.command);
  if (layer.source) command.title = layer.source;
  tr.append(command);
  tr.addEventListener("click", onSelect);
  return tr;
}

function wastedTable(wasted) {
  const wrap = h("div", "nbd-wasted");
  wrap.append(h("div", "nbd-title", "wasted space (paths written by more than one layer)"));
  if (!wasted.length) {
    wrap.append(h("div", "nbd-muted", "no wasted space"));
    return wrap;
  }
  const table = h("table", "nbd-table nbd-wasted-table");
  const head = h("tr");
  for (const title of ["COUNT", "TOTAL", "RECLAIMABLE", "PATH", "WRITTEN BY"]) head.append(h("th", "", title));
  table.append(h("thead"));
  table.tHead.append(head);
  const body = h("tbody");
  for (const row of wasted.slice(0, 200)) {
    const tr = h("tr", "nbd-wasted-row");
    tr.append(h("td", "num", row.count), h("td", "num", row.total), h("td", "num", row.reclaimable),
              h("td", "nbd-path", row.path), h("td", "nbd-muted", row.lines));
    body.append(tr);
  }
  table.append(body);
  wrap.append(table);
  if (wasted.length > 200) wrap.append(h("div", "nbd-footer", `… and ${wasted.length - 200} more`));
  return wrap;
}

function renderLayersWidget({ model, el }) {
  const host = h("div", "nbd-widget nbd-widget-layers");
  el.replaceChildren(host);
  showWhere(el, model);
  const draw = () => {
    host.replaceChildren();
    renderLayers(host, readJSON(model, "data", { layers: [] }));
    host.dataset.state = "ready";
  };
  draw();
  model.on("change:data", draw);
  return () => model.off("change:data", draw);
}

export default { render: renderLayersWidget };
