// DOM helpers. Text from the API is only ever set as text nodes (never parsed as HTML), and
// bidirectional-control characters are made visible, so reasoning or names cannot inject markup
// or reorder what the reader sees (e.g. U+202E RIGHT-TO-LEFT OVERRIDE).

const SVG_NS = "http://www.w3.org/2000/svg";
// LRM, RLM, ALM, the embeddings/overrides LRE..RLO and the isolates LRI..PDI.
const BIDI_CONTROLS = /[\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]/g;

export function plain(value) {
  if (value === null || value === undefined) return "";
  return String(value).replace(
    BIDI_CONTROLS,
    (c) => `\u2039U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}\u203A`,
  );
}

/** h("td", {class: "num"}, "text", child...) — strings become text nodes, never markup. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(plain(child)));
  }
}

/** API text in its own isolated run, so it cannot affect the text around it either. */
export function apiText(value, tag = "span") {
  return h(tag, { class: "api-text", dir: "auto" }, plain(value));
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

export const fmt = {
  pct(value, digits = 0) {
    return value === null || value === undefined ? "–" : `${(value * 100).toFixed(digits)}%`;
  },
  num(value, digits = 2) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  },
  int(value) {
    return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
  },
  time(value) {
    if (!value) return "–";
    const at = new Date(value);
    return `${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 16)} UTC`;
  },
  day(value) {
    return value ? String(value).slice(0, 10) : "–";
  },
};

// What each trust dimension stands on is `dimension_evidence` (a count, or null when nothing was
// reported: the dimension then repeats accuracy by design and is not a measurement).
const UNMEASURED = {
  timeliness: "no latency reported",
  reliability: "no failed or timed-out execution reported",
};

/** Whether a trust answer's dimension was measured (answers without the evidence count as measured). */
export function measured(trust, dimension) {
  const evidence = trust.dimension_evidence;
  return !evidence || evidence[dimension] !== null;
}

/** A dimension's score, or "no data" (with why, as its title) when nothing was reported for it. */
export function dimensionCell(trust, dimension) {
  if (measured(trust, dimension)) return fmt.num(trust[`${dimension}_score`]);
  return h("span", { class: "unmeasured", title: `${UNMEASURED[dimension]}: the score repeats accuracy` }, "no data");
}

export function unmeasuredNote(dimension) {
  return UNMEASURED[dimension];
}

/** A titled panel: <section class="panel"><h3>title</h3> ...body</section> */
export function panel(title, ...body) {
  return h("section", { class: "panel" }, h("h3", {}, title), ...body);
}

export function kpi(label, value, note) {
  return h(
    "div",
    { class: "kpi" },
    h("div", { class: "kpi-value" }, value),
    h("div", { class: "kpi-label" }, label),
    note ? h("div", { class: "kpi-note" }, note) : null,
  );
}

/** A small horizontal interval: the range [lower, upper] with a tick at value, on [0, 1]. */
export function intervalBar(value, lower, upper) {
  const width = 120;
  const x = (v) => Math.max(0, Math.min(1, v)) * width;
  const range = upper === null || upper === undefined ? value : upper;
  return svg(
    "svg",
    {
      class: "interval",
      width,
      height: 14,
      viewBox: `0 0 ${width} 14`,
      role: "img",
      "aria-label": `${fmt.num(value)} (${fmt.num(lower)} to ${fmt.num(range)})`,
    },
    svg("rect", { class: "interval-track", x: 0, y: 5, width, height: 4, rx: 2 }),
    svg("rect", {
      class: "interval-range",
      x: x(lower),
      y: 3,
      width: Math.max(x(range) - x(lower), 1),
      height: 8,
      rx: 3,
    }),
    svg("rect", { class: "interval-value", x: x(value) - 1, y: 0, width: 2, height: 14 }),
  );
}

/** A sparkline of values in [0, 1] (nulls skipped), with the last value marked. */
export function sparkline(values, { width = 110, height = 24 } = {}) {
  const points = values
    .map((v, i) => [i, v])
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([i, v]) => [
      values.length > 1 ? (i / (values.length - 1)) * (width - 4) + 2 : width / 2,
      height - 2 - Math.max(0, Math.min(1, v)) * (height - 4),
    ]);
  const chart = svg("svg", {
    class: "sparkline",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": points.length ? `${points.length} points` : "no history yet",
    dataset: { marks: String(points.length) },
  });
  if (points.length) {
    chart.append(
      svg("polyline", { points: points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ") }),
      svg("circle", { cx: points.at(-1)[0], cy: points.at(-1)[1], r: 2 }),
    );
  }
  return chart;
}

/** A sortable, filterable table. columns: [{key, label, value(row), cell(row), numeric}] */
export function dataTable(columns, rows, { initialSort, initialDescending = true, filter, empty } = {}) {
  let sortKey = initialSort;
  let descending = initialDescending;
  const body = h("tbody");
  const headers = columns.map((column) =>
    h(
      "th",
      {
        scope: "col",
        class: column.numeric ? "num" : null,
        dataset: { key: column.key },
      },
      column.sortable === false
        ? column.label
        : h(
            "button",
            {
              type: "button",
              class: "sort",
              onclick: () => {
                descending = sortKey === column.key ? !descending : column.numeric !== false;
                sortKey = column.key;
                render();
              },
            },
            column.label,
          ),
    ),
  );
  const table = h("table", { class: "data" }, h("thead", {}, h("tr", {}, headers)), body);
  let predicate = () => true;

  function render() {
    const column = columns.find((c) => c.key === sortKey);
    const shown = rows.filter((row) => predicate(row));
    if (column) {
      const value = column.value || ((row) => row[column.key]);
      shown.sort((a, b) => compare(value(a), value(b)) * (descending ? -1 : 1));
    }
    for (const th of headers) {
      th.setAttribute(
        "aria-sort",
        th.dataset.key === sortKey ? (descending ? "descending" : "ascending") : "none",
      );
    }
    body.replaceChildren(
      ...(shown.length
        ? shown.map((row) =>
            h(
              "tr",
              {},
              columns.map((c) => {
                const content = c.cell ? c.cell(row) : row[c.key];
                return h("td", { class: c.numeric ? "num" : null }, content);
              }),
            ),
          )
        : [h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty || "Nothing to show."))]),
    );
    table.dataset.rows = String(shown.length);
  }

  render();
  return {
    element: table,
    setFilter(next) {
      predicate = next;
      render();
    },
    filter,
  };
}

function compare(a, b) {
  const missing = (v) => v === null || v === undefined || Number.isNaN(v);
  if (missing(a) && missing(b)) return 0;
  if (missing(a)) return -1;
  if (missing(b)) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}
