// Helpers shared by nbdocker's views. Every value from an image, a registry or a build is put
// into the page as text (textContent, .title): this file never parses markup.

/** A new element with an optional class and text. */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A button that runs `onClick`; its label is text. */
export function button(className, label, onClick) {
  const node = h("button", "nbd-button " + className, label);
  node.type = "button";
  node.addEventListener("click", (event) => {
    event.stopPropagation();
    onClick(event);
  });
  return node;
}

/** A checkbox with a text label; `onChange(checked)`. Returns the label (holding the box). */
export function checkbox(className, label, checked, onChange) {
  const wrap = h("label", "nbd-check " + className);
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = checked;
  box.addEventListener("change", () => onChange(box.checked));
  wrap.append(box, document.createTextNode(" " + label));
  return wrap;
}

/** A synced trait holding JSON text. The kernel writes <, > and & as \u003c… so no saved notebook
 * or exported page can see markup in widget state; JSON.parse gives the characters back. */
export function readJSON(model, name, fallback) {
  const raw = model.get(name);
  if (!raw) return fallback;
  try {
    return JSON.parse(raw);
  } catch (err) {
    return fallback;
  }
}

/** One of the `allowed` words, else `other`: only our own words become classes or data-state. */
export function known(value, allowed, other = "other") {
  return allowed.includes(value) ? value : other;
}

export const STEP_STATES = ["queued", "waiting", "running", "cached", "done", "failed", "cancelled"];

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/** Sizes as the docker CLI writes them (go-units HumanSize: decimal, 3 significant digits). */
export function humanSize(bytes) {
  let size = Number(bytes) || 0;
  let unit = 0;
  while (size >= 1000 && unit < UNITS.length - 1) {
    size /= 1000;
    unit += 1;
  }
  return String(Number(size.toPrecision(3))) + UNITS[unit];
}

/** Seconds as the build view shows them. */
export function seconds(value) {
  return value === null || value === undefined ? "" : Number(value).toFixed(1) + "s";
}

// ---------------------------------------------------------------- ANSI colours

// Escape sequences: CSI (ESC [ params final), OSC (ESC ] … BEL or ESC \), and two-byte ones.
const ESCAPES = /\x1b(?:\[([0-9;:?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
// Other control characters a terminal would not print (tab stays).
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

function plain() {
  return { fg: -1, bg: -1, bold: false, dim: false, italic: false, underline: false };
}

/** Apply one SGR parameter list ("1;31") to a style; unknown codes are ignored. */
export function applySgr(style, params) {
  const next = { ...style };
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) Object.assign(next, plain());
    else if (c === 1) next.bold = true;
    else if (c === 2) next.dim = true;
    else if (c === 3) next.italic = true;
    else if (c === 4) next.underline = true;
    else if (c === 22) next.bold = next.dim = false;
    else if (c === 23) next.italic = false;
    else if (c === 24) next.underline = false;
    else if (c >= 30 && c <= 37) next.fg = c - 30;
    else if (c === 39) next.fg = -1;
    else if (c >= 40 && c <= 47) next.bg = c - 40;
    else if (c === 49) next.bg = -1;
    else if (c >= 90 && c <= 97) next.fg = c - 90 + 8;
    else if (c >= 100 && c <= 107) next.bg = c - 100 + 8;
    else if (c === 38 || c === 48) {
      // 38;5;N (256 colours: the first 16 map to our classes) or 38;2;R;G;B (dropped).
      if (codes[i + 1] === 5) {
        const n = codes[i + 2];
        if (n >= 0 && n < 16) next[c === 38 ? "fg" : "bg"] = n;
        i += 2;
      } else if (codes[i + 1] === 2) {
        i += 4;
      }
    }
  }
  return next;
}

function styled(text, style) {
  const classes = [];
  if (style.fg >= 0) classes.push("nbd-fg-" + style.fg);
  if (style.bg >= 0) classes.push("nbd-bg-" + style.bg);
  if (style.bold) classes.push("nbd-bold");
  if (style.dim) classes.push("nbd-dim");
  if (style.italic) classes.push("nbd-italic");
  if (style.underline) classes.push("nbd-underline");
  if (!classes.length) return document.createTextNode(text);
  return h("span", classes.join(" "), text);
}

/** Text with ANSI SGR colours as spans with classes (text nodes only, no markup parsed). */
export function ansiNodes(text) {
  const out = document.createDocumentFragment();
  let style = plain();
  let last = 0;
  ESCAPES.lastIndex = 0;
  let match;
  while ((match = ESCAPES.exec(text)) !== null) {
    if (match.index > last) {
      out.append(styled(text.slice(last, match.index).replace(CONTROLS, ""), style));
    }
    if (match[2] === "m") style = applySgr(style, match[1]);
    last = ESCAPES.lastIndex;
  }
  if (last < text.length) out.append(styled(text.slice(last).replace(CONTROLS, ""), style));
  return out;
}

/** One log line element: stream 2 (stderr) marked, colours as classes. */
export function logLine(stream, text) {
  const line = h("div", stream === 2 ? "nbd-log-line nbd-stderr" : "nbd-log-line");
  line.append(ansiNodes(String(text)));
  return line;
}

/** Clipboard where the browser offers it; the caller always shows the text too. */
export function copyText(text) {
  if (navigator.clipboard && navigator.clipboard.writeText) {
    return navigator.clipboard.writeText(text).then(() => true, () => false);
  }
  return Promise.resolve(false);
}

/** Select the text of a node, so Ctrl+C copies it when the clipboard API is unavailable. */
export function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/** A random token naming one request of one view (the answer carries it back). */
export function token() {
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

// A small line above a view naming where it came from, an engine or an archive (a screenshot
// then says which).
export function showWhere(el, model) {
  const where = model.get("where");
  if (!where || el.querySelector(":scope > .nbd-where")) return;
  el.prepend(h("div", "nbd-where", where));
}

