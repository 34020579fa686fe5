// `%docker history`: one row per layer, a size bar scaled to the largest layer, the cumulative
// size, a toggle for empty layers, `<missing>` explained, and the Dockerfile line when known.
import { h, checkbox, readJSON, showWhere } from "./common.js";

/** Render a history table view (the kernel's TableView as JSON) into `container`. */
export function renderHistory(container, data) {
  const root = h("div", "nbd-history");
  root.dataset.state = "ready";
  const rows = Array.isArray(data.rows) ? data.rows : [];
  const hasLines = rows.some((row) => row.line);
  const hasComments = rows.some((row) => row.comment);
  const largest = rows.reduce((m, row) => Math.max(m, Number(row.size_bytes) || 0), 0);
  const emptyCount = rows.filter((row) => row.empty).length;
  let hideEmpty = false;

  if (data.title) root.append(h("div", "nbd-title", data.title));
  const bar = h("div", "nbd-toolbar");
  bar.append(checkbox("nbd-hide-empty", `hide empty layers (${emptyCount})`, false, (checked) => {
    hideEmpty = checked;
    root.dataset.hideEmpty = checked ? "true" : "false";
    for (const tr of body.children) tr.hidden = hideEmpty && tr.dataset.empty === "true";
    showCount();
  }));
  const count = h("span", "nbd-count");
  bar.append(count);
  root.append(bar);

  const table = h("table", "nbd-table nbd-history-table");
  const head = h("tr");
  const titles = ["IMAGE", "CREATED", "CREATED BY"];
  if (hasLines) titles.push("LINE");
  titles.push("SIZE", "", "CUMULATIVE");
  if (hasComments) titles.push("COMMENT");
  for (const title of titles) {
    const th = h("th", title === "SIZE" || title === "CUMULATIVE" ? "num" : "", title);
    head.append(th);
  }
  table.append(h("thead"));
  table.tHead.append(head);
  const body = h("tbody");
  for (const row of rows) body.append(layerRow(row, hasLines, hasComments, largest));
  table.append(body);
  root.append(table);
  if (data.footer) root.append(h("div", "nbd-footer", data.footer));

  function showCount() {
    const shown = rows.length - (hideEmpty ? emptyCount : 0);
    count.textContent = `${shown} of ${rows.length} entries`;
  }
  showCount();
  container.append(root);
  return root;
}

function squeeze(text) {
  return String(text).replace(/["'\s\\]/g, "");
}

function layerRow(row, hasLines, hasComments, largest) {
  const tr = h("tr", row.empty ? "nbd-layer nbd-empty" : "nbd-layer");
  tr.dataset.empty = row.empty ? "true" : "false";
  const id = h("td", row.id === "<missing>" ? "nbd-id nbd-missing" : "nbd-id", row.id);
  // A property, never an attribute string assembled from data.
  if (row.id__title) id.title = row.id__title;
  tr.append(id, h("td", "nbd-muted", row.created));
  const by = h("td", "nbd-created-by");
  by.append(h("div", "nbd-command", row.created_by));
  if (row.created_by__title) by.title = row.created_by__title;
  // The Dockerfile text, when it says more than the engine's record of the command.
  if (row.source && squeeze(row.source) !== squeeze(row.created_by__title || row.created_by)) {
    const source = h("div", "nbd-source", row.source);
    source.title = "Dockerfile line " + (row.line || "");
    by.append(source);
  }
  tr.append(by);
  if (hasLines) {
    const line = h("td", "nbd-line num", row.line ? "line " + row.line : "");
    if (row.source) line.title = row.source;
    tr.append(line);
  }
  tr.append(h("td", "num", row.size));
  const barCell = h("td", "nbd-bar-cell");
  const size = Number(row.size_bytes) || 0;
  const fill = h("span", "nbd-bar");
  // A number we compute, set through the style object: no data string reaches `style`.
  fill.style.width = (largest ? Math.max(size ? 1 : 0, Math.round((100 * size) / largest)) : 0) + "%";
  barCell.append(fill);
  tr.append(barCell, h("td", "num nbd-cumulative", row.cumulative));
  if (hasComments) tr.append(h("td", "nbd-muted", row.comment));
  return tr;
}

function renderHistoryWidget({ model, el }) {
  const host = h("div", "nbd-widget nbd-widget-history");
  el.replaceChildren(host);
  showWhere(el, model);
  const draw = () => {
    host.replaceChildren();
    renderHistory(host, readJSON(model, "data", { rows: [] }));
    host.dataset.state = "ready";
  };
  draw();
  model.on("change:data", draw);
  return () => model.off("change:data", draw);
}

export default { render: renderHistoryWidget };
