// The dashboard's live cards and charts, drawn in the browser and fed over HTTP.
//
// Mounted once per page part (ui/live/__init__.py); Streamlit calls this function again
// when the data it was given changes (a new window) or the theme changes, after calling
// the cleanup it returned. What is drawn survives those calls (kept per parent element):
// the cards and charts are never remounted, and only what is new is fetched
// (dashboard_core/metrics/live_feed.py): the cards' new values every sample, the
// charts' new rows every refresh. Nothing is fetched while the tab is hidden.
// The charts' marks (what happened when: runs, alerts, annotations) are in marks.js,
// which ui/live/__init__.py appends to this file.

const STATES = new WeakMap();
const SPARK_POINTS = 60;
const RETRY_MAX_MS = 10000;
const COLORWAY = ["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a", "#6d3fc0", "#d5dae5"];
let plotlyLoading = null;

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let state = STATES.get(parentElement);
  if (!state) {
    state = { root: document.createElement("div"), timer: null, controller: null, failures: 0 };
    parentElement.appendChild(state.root);
    STATES.set(parentElement, state);
  }
  state.data = data;
  state.setTriggerValue = setTriggerValue;
  state.stopped = false;
  const onVisible = () => {
    if (!document.hidden) schedule(state, 0);
  };
  document.addEventListener("visibilitychange", onVisible);
  if (data.mode === "cards") startCards(state);
  else if (data.mode === "processes") startProcesses(state);
  else if (data.mode === "watch") startWatch(state);
  else startCharts(state, parentElement);
  return () => {
    state.stopped = true;
    clearTimeout(state.timer);
    state.controller?.abort();
    if (data.mode === "charts") stopMarks(state);
    document.removeEventListener("visibilitychange", onVisible);
  };
}

// -- fetching ---------------------------------------------------------------------------

function schedule(state, ms) {
  clearTimeout(state.timer);
  if (state.stopped) return;
  state.timer = setTimeout(() => {
    if (state.stopped || document.hidden) return; // resumed by visibilitychange
    state.tick().then(
      () => {
        state.failures = 0;
        showProblem(state, null);
        schedule(state, state.every);
      },
      (err) => {
        if (err.name === "AbortError" || state.stopped) return;
        state.failures += 1;
        showProblem(state, `Live data could not be fetched (${err.message}); retrying.`);
        schedule(state, Math.min(RETRY_MAX_MS, state.every * 2 ** state.failures));
      },
    );
  }, ms);
}

async function getJson(state, url) {
  state.controller = new AbortController();
  const response = await fetch(url, { credentials: "same-origin", signal: state.controller.signal });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json()).message || message;
    } catch (_) {
      /* not a JSON error body */
    }
    throw new Error(message);
  }
  return response.json();
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showProblem(state, text) {
  if (!state.problem) {
    state.problem = el("div", "dl-problem");
    state.problem.setAttribute("role", "status");
    state.root.prepend(state.problem);
  }
  setText(state.problem, text || "");
  if (state.problem.hidden !== !text) state.problem.hidden = !text; // every tick: written only on a change
}

// -- cards ------------------------------------------------------------------------------

function startCards(state) {
  const data = state.data;
  state.every = data.every_ms;
  if (!state.cards) {
    state.root.className = "dl-cards";
    state.root.dataset.testid = "dlCards";
    state.cards = new Map();
    state.t = null;
    // Each canvas's size in device pixels, kept here, so a tick never reads layout.
    state.sizes = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const shown = entry.target.shownCard;
        const ratio = window.devicePixelRatio || 1;
        shown.size = [Math.round(entry.contentRect.width * ratio), Math.round(entry.contentRect.height * ratio)];
        shown.drawn = null;
        drawSpark(state, shown, true);
      }
    });
  }
  state.colours = new Map(); // per tone, read again after a theme change (which calls this again)
  for (const shown of state.cards.values()) drawSpark(state, shown, true);
  state.tick = async () => {
    const since = state.t === null ? "" : `?since=${state.t}`;
    const payload = await getJson(state, data.feed + since);
    drawCards(state, payload);
  };
  schedule(state, 0);
}

function drawCards(state, payload) {
  const labels = payload.cards.map((c) => c.label);
  const known = [...state.cards.keys()];
  if (!payload.whole && labels.join("\n") !== known.join("\n")) {
    state.t = null; // a card came or went (a disk was mounted): fetch them whole next time
    return;
  }
  if (payload.whole && labels.join("\n") !== known.join("\n")) {
    for (const card of state.cards.values()) {
      state.sizes.unobserve(card.canvas);
      card.node.remove();
    }
    state.cards.clear();
  }
  if (performance.now() - (state.coloursAt ?? -Infinity) > SPARK_EVERY_MS) {
    state.colours.clear(); // a theme that changed after this was called shows within seconds
    state.coloursAt = performance.now();
  }
  state.empty ??= el("div", "dl-empty", "Waiting for the first samples…");
  if (state.empty.hidden !== payload.cards.length > 0) state.empty.hidden = payload.cards.length > 0;
  if (!state.empty.isConnected) state.root.append(state.empty);
  for (const card of payload.cards) {
    let shown = state.cards.get(card.label);
    if (!shown) {
      shown = makeCard(card);
      state.cards.set(card.label, shown);
      state.root.append(shown.node);
      state.sizes.observe(shown.canvas);
    }
    if (payload.whole) shown.spark = [];
    updateCard(state, shown, card);
  }
  if (payload.t !== null) state.t = payload.t;
}

function makeCard(card) {
  const node = el("div", "dl-card");
  node.dataset.testid = "dlCard";
  const label = el("div", "dl-label", card.label);
  label.dataset.testid = "dlCardLabel";
  const value = el("div", "dl-value");
  value.dataset.testid = "dlCardValue";
  const delta = el("div", "dl-delta");
  delta.dataset.testid = "dlCardDelta";
  const arrow = el("span", "dl-arrow");
  const change = el("span");
  const since = el("span", "dl-since");
  delta.append(arrow, change, since);
  const canvas = el("canvas", "dl-spark");
  canvas.setAttribute("aria-hidden", "true");
  node.append(label, value, delta, canvas);
  const shown = { node, label, value, delta, arrow, change, since, canvas, spark: [], size: null, drawn: null };
  canvas.shownCard = shown;
  return shown;
}

// A text or attribute is written only when it differs from what is shown: an unchanged
// card costs the browser no style, layout or paint work.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function updateCard(state, shown, card) {
  setAttr(shown.label, "title", card.help ? `${card.label}: ${card.help}` : card.label);
  setText(shown.value, card.value);
  const sign = card.delta ? card.delta.trim()[0] : "";
  const tone = deltaTone(card.color, card.arrow, sign);
  setAttr(shown.delta, "class", `dl-delta dl-${tone}`);
  const arrow = !card.delta || card.arrow === "off" || (sign !== "+" && sign !== "-") ? "" : sign === "+" ? "↑ " : "↓ ";
  setText(shown.arrow, arrow);
  setText(shown.change, card.delta || "");
  setText(shown.since, card.delta ? " vs 1 min ago" : "");
  setAttr(shown.delta, "data-arrow", arrow ? "yes" : "no");
  shown.tone = tone;
  shown.spark.push(...card.spark);
  shown.spark.splice(0, Math.max(0, shown.spark.length - SPARK_POINTS));
  drawSpark(state, shown, false);
}

function deltaTone(color, arrow, sign) {
  if (color === "off" || arrow === "off" || (sign !== "+" && sign !== "-")) return "flat";
  const up = sign === "+";
  return (color === "inverse") === up ? "bad" : "good";
}

function toneColour(state, shown) {
  if (!state.colours.has(shown.tone)) state.colours.set(shown.tone, getComputedStyle(shown.delta).color);
  return state.colours.get(shown.tone);
}

// The line in whole device pixels: a sample that moves it by less than a pixel, or a
// series that stays flat, leaves the canvas as it is (no repaint). Otherwise it is
// redrawn at most every SPARK_EVERY_MS, so twelve cards do not repaint every second.
const SPARK_EVERY_MS = 5000;

function drawSpark(state, shown, now) {
  if (!shown.size) return; // not laid out yet: the ResizeObserver draws it
  const [width, height] = shown.size;
  const ratio = window.devicePixelRatio || 1;
  const values = shown.spark;
  if (!width || !height) return;
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) {
    low -= 1;
    high += 1;
  }
  const step = width / (SPARK_POINTS - 1);
  const x0 = (SPARK_POINTS - values.length) * step;
  const ys = values.map((v) => Math.round(height - 2 * ratio - ((v - low) / (high - low)) * (height - 4 * ratio)));
  const colour = toneColour(state, shown);
  const key = `${colour}|${values.length}|${ys.join(",")}`;
  if (key === shown.drawn) return;
  if (!now && shown.drawnAt && performance.now() - shown.drawnAt < SPARK_EVERY_MS) return;
  shown.drawn = key;
  shown.drawnAt = performance.now();
  const canvas = shown.canvas;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, width, height);
  if (values.length < 2) return;
  ctx.beginPath();
  ys.forEach((y, i) => (i ? ctx.lineTo(x0 + i * step, y) : ctx.moveTo(x0, y)));
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5 * ratio;
  ctx.stroke();
  ctx.lineTo(x0 + (values.length - 1) * step, height);
  ctx.lineTo(x0, height);
  ctx.closePath();
  ctx.globalAlpha = 0.15;
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.globalAlpha = 1;
}

// -- watch: ask the page to redraw when what it shows has changed ---------------------

const RETRIGGER_MS = 15000;

function startWatch(state) {
  const data = state.data;
  state.every = data.every_ms;
  state.triggered = null;
  state.tick = async () => {
    const { version } = await getJson(state, data.feed);
    const again = state.triggered && Date.now() - state.triggered.at > RETRIGGER_MS;
    if (version !== data.version && (state.triggered?.version !== version || again)) {
      state.triggered = { version, at: Date.now() };
      state.setTriggerValue("changed", version); // reruns the fragment that holds this watch
    }
  };
  schedule(state, data.every_ms);
}

// -- processes -------------------------------------------------------------------------

const PROCESS_COLUMNS = [
  ["pid", "PID", (v) => String(v)],
  ["name", "Name", (v) => v],
  ["user", "User", (v) => v],
  ["cpu_percent", "CPU %", (v) => v.toFixed(1)],
  ["rss", "RSS", bytes],
  ["memory_percent", "Mem %", (v) => v.toFixed(1)],
];

function bytes(v) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function startProcesses(state) {
  const data = state.data;
  state.every = data.every_ms;
  if (!state.tables) {
    state.root.className = "dl-processes";
    state.tables = {};
    for (const [by, title] of [["cpu", "By CPU"], ["memory", "By memory"]]) {
      const box = el("div", "dl-table-box");
      const table = el("table", "dl-table");
      table.dataset.testid = `dlProcesses-${by}`;
      const head = table.createTHead().insertRow();
      for (const [, label] of PROCESS_COLUMNS) head.append(el("th", "", label));
      box.append(el("div", "dl-table-title", title), table);
      state.root.append(box);
      state.tables[by] = table.createTBody();
    }
  }
  state.tick = async () => {
    const [cpu, memory] = await Promise.all(
      ["cpu", "memory"].map((by) => getJson(state, `${data.feed}?by=${by}&n=${data.n}`)),
    );
    fillTable(state.tables.cpu, cpu);
    fillTable(state.tables.memory, memory);
  };
  schedule(state, 0);
}

// Rows are kept and only the cells whose text changed are written: a scan that moves
// nothing repaints nothing.
function fillTable(body, rows) {
  while (body.rows.length > rows.length) body.deleteRow(-1);
  rows.forEach((row, i) => {
    const tr = body.rows[i] ?? body.insertRow();
    setAttr(tr, "title", row.cmdline || row.name);
    PROCESS_COLUMNS.forEach(([key, , format], c) => {
      const td = tr.cells[c] ?? tr.insertCell();
      setAttr(td, "class", typeof row[key] === "number" ? "dl-num" : "");
      setText(td, format(row[key]));
    });
  });
}

// -- charts -----------------------------------------------------------------------------

function startCharts(state, parentElement) {
  const data = state.data;
  const config = JSON.stringify(data);
  state.every = data.refresh_ms;
  state.themeOf = () => theme(parentElement);
  startMarks(state);
  if (state.config === config && state.charts) {
    restyle(state); // the theme may be what changed
    refreshMarks(state); // the event stream was closed in between: what it missed
    state.tick = () => extend(state);
    if (data.live) schedule(state, data.refresh_ms);
    return;
  }
  state.config = config;
  state.marks.json = ""; // a new window (or time zone): its marks are drawn afresh
  state.tick = async () => {
    await load(state);
    refreshMarks(state);
    state.tick = () => extend(state);
  };
  schedule(state, 0);
}

function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  plotlyLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      plotlyLoading = null;
      script.remove();
      reject(new Error(`the chart library (${src}) did not load`));
    };
    document.head.append(script);
  });
  return plotlyLoading;
}

async function load(state) {
  const data = state.data;
  const [payload, Plotly] = await Promise.all([
    getJson(state, `${data.feed}?${data.query}&tz=${encodeURIComponent(data.tz)}`),
    loadPlotly(data.plotly),
  ]);
  state.Plotly = Plotly;
  state.payload = payload;
  state.last = payload.last;
  state.skew = payload.window.end - Date.now();
  for (const chart of state.charts?.values() ?? []) Plotly.purge(chart.div);
  state.root.className = "dl-charts-root";
  state.root.replaceChildren();
  state.problem = null;
  const head = el("div", "dl-head");
  head.append(el("span", "dl-caption", `Resolution: ${payload.resolution}`));
  if (payload.history_starts) {
    const note = el("span", "dl-note", `History starts at ${payload.history_starts}; the window reaches back further.`);
    note.dataset.testid = "dlHistoryStarts";
    head.append(note);
  }
  head.append(marksChips(state));
  state.root.append(head);
  if (!payload.charts.length) {
    state.root.append(el("div", "dl-empty", "No samples in this window yet."));
    state.charts = new Map();
    return;
  }
  const grid = el("div", "dl-charts");
  state.root.append(grid);
  state.charts = new Map();
  state.observer?.disconnect();
  state.observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const chart = state.charts.get(entry.target.dataset.key);
      if (!chart) continue;
      chart.visible = entry.isIntersecting;
      if (chart.visible && chart.stale) drawChart(state, chart, axisRange(state));
    }
  });
  for (const { key, title, figure } of payload.charts) {
    const box = el("div", "dl-chart");
    box.dataset.testid = "dlChart";
    box.dataset.key = key;
    box.id = `chart-${key}`;
    const heading = el("div", "dl-title", title);
    const wrap = el("div", "dl-plot-wrap");
    const div = el("div", "dl-plot");
    wrap.append(div);
    box.append(heading, wrap);
    grid.append(box);
    // Not drawn until in view (the observer's first report comes at once): a window of ten
    // charts draws the two to four on screen first, the rest as they scroll in.
    const chart = { key, box, div, data: figure.data.map(decodeTrace), layout: figure.layout, rev: 0, visible: false };
    delete chart.layout.title; // drawn above the plot, where the toolbar cannot cover it
    chart.layout.margin = { ...chart.layout.margin, t: LANE_TOP }; // the marks' lane sits above the plot area
    chart.lane = markLane(state, chart, wrap);
    div.style.height = `${chart.layout.height || 280}px`; // its place kept before it is drawn
    state.charts.set(key, chart);
  }
  restyle(state);
  if (data.focus && state.charts.has(data.focus)) state.charts.get(data.focus).box.scrollIntoView();
  for (const chart of state.charts.values()) state.observer.observe(chart.box);
}

function axisRange(state) {
  const p = state.payload;
  if (!state.data.live || !p.window.live) return p.axis;
  const end = Date.now() + state.skew + p.offset;
  return [end - p.window.span, end];
}

async function extend(state) {
  if (!state.data.live || state.last === null || state.last === undefined) return;
  const p = state.payload;
  const url = `${state.data.points}?since=${state.last}&step=${p.step}&tz=${encodeURIComponent(state.data.tz)}`;
  const rows = await getJson(state, url);
  const [start] = axisRange(state);
  for (const chart of state.charts.values()) {
    for (const trace of chart.data) appendRows(trace, rows, start);
  }
  if (rows.t.length) state.last = rows.t[rows.t.length - 1];
  extendMarks(state);
  draw(state);
}

// New rows replace the trace's points from the first new x on (a tier's newest bucket may have
// filled since it was drawn), then points left of the window are dropped.
function appendRows(trace, rows, start) {
  const x = trace.x;
  if (rows.x.length) {
    let cut = x.length;
    while (cut > 0 && x[cut - 1] >= rows.x[0]) cut -= 1;
    x.splice(cut);
    x.push(...rows.x);
    if (trace.type === "heatmap") {
      trace.meta.forEach((column, i) => {
        trace.z[i].splice(cut);
        trace.z[i].push(...(rows.columns[column] ?? rows.x.map(() => null)));
      });
    } else {
      trace.y.splice(cut);
      trace.y.push(...(rows.columns[trace.meta] ?? rows.x.map(() => null)));
    }
  }
  let old = 0;
  while (old < x.length - 1 && x[old] < start) old += 1;
  if (old) {
    x.splice(0, old);
    if (trace.type === "heatmap") trace.z.forEach((row) => row.splice(0, old));
    else trace.y.splice(0, old);
  }
}

// Only charts in view are drawn; the others when they scroll into view (each redraw of a
// chart costs the browser some milliseconds of layout and SVG, and most are out of view).
function draw(state) {
  const range = axisRange(state);
  for (const chart of state.charts.values()) {
    if (chart.visible) drawChart(state, chart, range);
    else chart.stale = true;
  }
}

function drawChart(state, chart, range) {
  chart.layout.xaxis = { ...chart.layout.xaxis, type: "date", range, autorange: false };
  chart.layout.datarevision = ++chart.rev;
  chart.layout.shapes = markShapes(state, chart);
  chart.layout.clickanywhere = true; // a click anywhere on the plot says when: see openMoment
  chart.range = range;
  state.Plotly.react(chart.div, chart.data, chart.layout, PLOT_CONFIG).then(() => placeLane(state, chart));
  if (!chart.drawn) {
    chart.div.on("plotly_selected", (event) => {
      const range = event?.range?.x;
      if (range && range.length === 2) state.setTriggerValue("zoom", { x: range, chart: chart.key });
    });
    hookMarks(state, chart);
  }
  chart.drawn = true;
  chart.stale = false;
}

const PLOT_CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["lasso2d", "zoom2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d", "pan2d"],
};

// Typed arrays ({dtype, bdata, shape}, as Plotly's Python package sends them) into plain arrays
// that can grow.
const DTYPES = { f8: Float64Array, f4: Float32Array, i4: Int32Array, i2: Int16Array, i1: Int8Array, u1: Uint8Array };

function decode(value) {
  if (!value || typeof value !== "object" || !("bdata" in value)) return value;
  const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
  const flat = Array.from(new DTYPES[value.dtype](bytes.buffer));
  if (!value.shape) return flat;
  const [rows, cols] = value.shape.split(",").map(Number);
  return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
}

function decodeTrace(trace) {
  const out = { ...trace };
  for (const key of ["x", "y", "z"]) if (key in out) out[key] = decode(out[key]);
  return out;
}

// -- theme ------------------------------------------------------------------------------

function theme(node) {
  const style = getComputedStyle(node);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const colours = read("--st-chart-categorical-colors", "").match(/#[0-9a-fA-F]{3,8}/g);
  return {
    text: read("--st-text-color", "#31333f"),
    font: read("--st-font", "sans-serif"),
    colorway: colours && colours.length ? colours : COLORWAY,
  };
}

function faint(colour, alpha) {
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = colour;
  const hex = probe.fillStyle; // normalised to #rrggbb
  if (!hex.startsWith("#")) return `rgba(128,128,128,${alpha})`;
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function restyle(state) {
  const t = state.themeOf();
  const grid = faint(t.text, 0.12);
  const axis = { gridcolor: grid, linecolor: grid, zerolinecolor: grid, automargin: true, tickfont: { color: t.text } };
  for (const chart of state.charts.values()) {
    const layout = chart.layout; // its template stays: these override it
    layout.colorway = t.colorway;
    layout.paper_bgcolor = "rgba(0,0,0,0)";
    layout.plot_bgcolor = "rgba(0,0,0,0)";
    layout.font = { ...layout.font, color: t.text, family: t.font };
    layout.legend = { ...layout.legend, font: { color: t.text } };
    layout.xaxis = { ...layout.xaxis, ...axis };
    layout.yaxis = { ...layout.yaxis, ...axis };
  }
  draw(state);
}
