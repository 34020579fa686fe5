// `%docker images`: sortable columns, a filter, a toggle for dangling images, count and total size.
// Sorting and filtering happen here, so they work while the kernel is busy. A selected row offers
// inspect, history and remove: those ask the kernel, which answers in the `panel` trait.
import { h, button, checkbox, readJSON, humanSize, known, token, showWhere } from "./common.js";
import { renderInspect } from "./inspect.js";
import { renderHistory } from "./history.js";

export const ROW_PX = 20; // every row is one line this high (CSS), so the window is arithmetic
const MARGIN_ROWS = 15;

/** The order of `rows` (indices) sorted by `column` (its raw sort_key when it has one). */
export function sortOrder(rows, column, direction) {
  const field = column.sort_key || column.key;
  const numeric = Boolean(column.sort_key) || column.numeric;
  const keys = rows.map((row) => {
    const v = row[field];
    return numeric ? Number(v) || 0 : String(v === undefined || v === null ? "" : v).toLowerCase();
  });
  const order = rows.map((_, i) => i);
  const sign = direction === "desc" ? -1 : 1;
  order.sort((a, b) => (keys[a] < keys[b] ? -sign : keys[a] > keys[b] ? sign : a - b));
  return order;
}

/** Does a row match the filter text (repository, tag, id, digest)? */
export function matches(row, query) {
  if (!query) return true;
  const q = query.toLowerCase();
  return [row.repository, row.tag, row.id, row.full_id, row.digest, `${row.repository}:${row.tag}`]
    .some((v) => v && String(v).toLowerCase().includes(q));
}

/** The reference a removal uses: repo:tag when tagged, the id when dangling (like the CLI). */
function reference(row) {
  return row.repository !== "<none>" && row.tag !== "<none>" ? `${row.repository}:${row.tag}` : row.id;
}

export function renderImages(container, model) {
  const root = h("div", "nbd-widget nbd-widget-images");
  root.dataset.state = "ready";
  const view = { sort: null, direction: "asc", query: "", dangling: true, selected: null, pending: null, armed: false };
  let data = readJSON(model, "data", { columns: [], rows: [] });
  let trs = [];
  let shown = []; // indices of the matching rows, in order
  const before = h("tr", "nbd-spacer-row");
  const after = h("tr", "nbd-spacer-row");
  const beforeCell = h("td");
  const afterCell = h("td");
  before.append(beforeCell);
  after.append(afterCell);

  const tools = h("div", "nbd-toolbar");
  const filter = h("input", "nbd-filter");
  filter.type = "search";
  filter.placeholder = "filter: repository, tag or id";
  filter.addEventListener("input", () => {
    view.query = filter.value;
    place();
  });
  const dangling = checkbox("nbd-dangling-toggle", "dangling images", true, (checked) => {
    view.dangling = checked;
    place();
  });
  const count = h("span", "nbd-count");
  tools.append(filter, dangling, count);

  // A fixed table layout with widths from the longest text of each column: the browser then
  // lays out 2,000 rows without measuring every cell (auto layout took most of the time).
  const scroller = h("div", "nbd-scroll");
  const table = h("table", "nbd-table nbd-images-table");
  const colgroup = h("colgroup");
  const thead = h("thead");
  const headRow = h("tr");
  thead.append(headRow);
  const tbody = h("tbody");
  table.append(colgroup, thead, tbody);
  scroller.append(table);
  let scrolling = null;
  scroller.addEventListener("scroll", () => {
    if (scrolling === null) {
      scrolling = requestAnimationFrame(() => {
        scrolling = null;
        drawWindow();
      });
    }
  });
  const empty = h("div", "nbd-muted nbd-empty-note");

  const actions = h("div", "nbd-actions");
  const chosen = h("span", "nbd-chosen");
  const inspectButton = button("nbd-inspect", "inspect", () => ask("inspect"));
  const historyButton = button("nbd-history-button", "history", () => ask("history"));
  const removeButton = button("nbd-remove", "remove", () => {
    if (!view.armed) {
      view.armed = true;
      showActions();
      return;
    }
    ask("remove");
  });
  const cancelButton = button("nbd-cancel", "cancel", () => {
    view.armed = false;
    showActions();
  });
  actions.append(chosen, inspectButton, historyButton, removeButton, cancelButton);
  const panel = h("div", "nbd-panel");
  panel.dataset.state = "empty";

  root.append(tools, scroller, empty, actions, panel);
  container.append(root);

  function selectedRow() {
    if (view.selected === null) return null;
    return data.rows.find((row) => rowKey(row) === view.selected) || null;
  }

  function rowKey(row) {
    return `${row.full_id}\u0000${row.repository}\u0000${row.tag}\u0000${row.digest || ""}`;
  }

  function buildHead() {
    headRow.replaceChildren();
    colgroup.replaceChildren();
    let total = 0;
    for (const column of data.columns) {
      let widest = column.title.length + 3;
      for (const row of data.rows) {
        const value = row[column.key];
        const length = value === undefined || value === null ? 0 : String(value).length;
        if (length > widest) widest = length;
      }
      const width = Math.min(widest, 56) + 2;
      const col = h("col");
      col.style.width = width + "ch";  // a number we computed
      colgroup.append(col);
      total += width;
    }
    table.style.width = total + "ch";
    beforeCell.colSpan = afterCell.colSpan = Math.max(1, data.columns.length);
    for (const column of data.columns) {
      const th = h("th", "nbd-sortable" + (column.numeric ? " num" : ""), column.title);
      th.dataset.key = column.key;
      th.dataset.sort = view.sort === column.key ? view.direction : "none";
      th.title = "sort by " + column.title.toLowerCase();
      th.addEventListener("click", () => {
        if (view.sort === column.key) view.direction = view.direction === "asc" ? "desc" : "asc";
        else {
          view.sort = column.key;
          view.direction = "asc";
        }
        for (const other of headRow.children) {
          other.dataset.sort = other.dataset.key === view.sort ? view.direction : "none";
        }
        place();
      });
      headRow.append(th);
    }
  }

  // Rows are built when first shown and kept; the table holds only the rows in view (plus a
  // margin) between two spacers, so sorting or filtering 2,000 images moves a few dozen rows.
  function buildRows() {
    trs = new Array(data.rows.length).fill(null);
  }

  function rowElement(i) {
    if (trs[i]) return trs[i];
    const row = data.rows[i];
    const tr = h("tr", "nbd-image-row");
    tr.dataset.dangling = row.dangling ? "true" : "false";
    for (const column of data.columns) {
      const td = h("td", column.numeric ? "num" : "", row[column.key]);
      if (td.textContent.length > 50) td.title = td.textContent;  // cut with an ellipsis
      tr.append(td);
    }
    tr.addEventListener("click", () => {
      view.selected = view.selected === rowKey(row) ? null : rowKey(row);
      view.armed = false;
      for (const other of tbody.querySelectorAll("tr.nbd-selected")) other.classList.remove("nbd-selected");
      if (view.selected !== null) tr.classList.add("nbd-selected");
      showActions();
    });
    trs[i] = tr;
    return tr;
  }

  // The order of the matching rows, their count and total size.
  function place() {
    const column = data.columns.find((c) => c.key === view.sort);
    const order = column ? sortOrder(data.rows, column, view.direction) : data.rows.map((_, i) => i);
    const ids = new Map();
    shown = [];
    for (const i of order) {
      const row = data.rows[i];
      if (!view.dangling && row.dangling) continue;
      if (!matches(row, view.query)) continue;
      shown.push(i);
      ids.set(row.full_id, Number(row.size_bytes) || 0);
    }
    let total = 0;
    for (const size of ids.values()) total += size;
    const all = new Set(data.rows.map((row) => row.full_id)).size;
    count.textContent = `${ids.size} image${ids.size === 1 ? "" : "s"}` + (ids.size !== all ? ` of ${all}` : "")
      + `, ${humanSize(total)}` + (shown.length !== ids.size ? ` (${shown.length} rows)` : "");
    root.dataset.sort = view.sort ? `${view.sort} ${view.direction}` : "none";
    empty.textContent = data.rows.length === 0 ? data.empty || "no images" : shown.length === 0 ? "no image matches" : "";
    drawWindow();
  }

  function drawWindow() {
    const height = scroller.clientHeight > 100 ? scroller.clientHeight : 700; // before layout: a guess
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_PX) - MARGIN_ROWS);
    const last = Math.min(shown.length, first + Math.ceil(height / ROW_PX) + 2 * MARGIN_ROWS);
    const rows = document.createDocumentFragment();
    rows.append(before);
    for (let n = first; n < last; n++) {
      const tr = rowElement(shown[n]);
      tr.classList.toggle("nbd-selected", view.selected === rowKey(data.rows[shown[n]]));
      rows.append(tr);
    }
    rows.append(after);
    beforeCell.style.height = first * ROW_PX + "px";  // numbers we computed
    afterCell.style.height = (shown.length - last) * ROW_PX + "px";
    before.hidden = first === 0;
    after.hidden = last === shown.length;
    tbody.replaceChildren(rows);
  }

  function showActions() {
    const row = selectedRow();
    actions.hidden = row === null;
    if (row === null) return;
    chosen.textContent = `${reference(row)} (${row.id})`;
    removeButton.textContent = view.armed ? `confirm: remove ${reference(row)}` : "remove";
    removeButton.dataset.state = view.armed ? "armed" : "idle";
    cancelButton.hidden = !view.armed;
  }

  function ask(action) {
    const row = selectedRow();
    if (row === null) return;
    view.pending = token();
    view.armed = false;
    showActions();
    panel.dataset.state = "loading";
    panel.replaceChildren(h("div", "nbd-muted", `${action} ${reference(row)}: waiting for the kernel…`));
    model.send({ t: action, row: data.rows.indexOf(row), id: row.full_id, ref: reference(row), req: view.pending });
  }

  function showPanel() {
    const answer = readJSON(model, "panel", null);
    if (!answer) return;
    if (view.pending && answer.req === view.pending) view.pending = null;
    panel.replaceChildren();
    panel.dataset.state = known(answer.status, ["ok", "error"], "error");
    panel.dataset.action = known(answer.action, ["inspect", "history", "remove"]);
    const head = h("div", "nbd-panel-head");
    head.append(h("span", "nbd-title", `${answer.action} ${answer.ref}`),
      button("nbd-close", "close", () => {
        panel.replaceChildren();
        panel.dataset.state = "empty";
      }));
    panel.append(head);
    if (answer.message) panel.append(h("div", "nbd-error", answer.message));
    const body = answer.view;
    if (body && answer.action === "inspect") renderInspect(panel, body);
    else if (body && answer.action === "history") renderHistory(panel, { ...body, title: null });
    else if (body && answer.action === "remove") {
      const report = h("div", "nbd-report");
      for (const [level, text] of body.lines || []) {
        report.append(h("div", level === "error" ? "nbd-error" : "nbd-line", text));
      }
      panel.append(report);
    }
  }

  function draw() {
    data = readJSON(model, "data", { columns: [], rows: [] });
    if (view.selected !== null && selectedRow() === null) view.selected = null;
    buildHead();
    buildRows();
    place();
    showActions();
  }

  draw();
  showPanel();
  model.on("change:data", draw);
  model.on("change:panel", showPanel);
  return () => {
    model.off("change:data", draw);
    model.off("change:panel", showPanel);
  };
}

function renderImagesWidget({ model, el }) {
  el.replaceChildren();
  const stop = renderImages(el, model);
  showWhere(el, model);
  return stop;
}

export default { render: renderImagesWidget };
