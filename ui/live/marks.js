// -- marks: what happened when, on every chart ----------------------------------------
//
// Appended to live.js by ui/live/__init__.py (one component, one module). The marks of the
// charts' window come from api/timeline/marks: spans (a test run, an alert) are drawn as
// translucent bands, points (a restart, an annotation) as dotted lines, and each has a
// handle in a thin lane above the plot: hover it to read what it is, click it to open it.
// A chip per kind shows or hides that kind (remembered in this browser).
//
// Nothing polls. One EventSource on api/events/stream (the server pushes each event as it
// is logged) re-fetches the marks when an event of a kind that makes marks arrives; an
// ongoing span grows with the live points the charts fetch anyway. The marks are redrawn
// only when what is drawn changes.
//
// A click on the plot itself (not on a mark's handle) asks api/metrics/processes/at what
// ran at that moment: the top processes and the test or workflow step going on.

const LANE_H = 10; // px: the lane of handles above the plot area
const LANE_TOP = 40; // px: the plot's top margin: the lane sits in it, below the toolbar
const MARK_EVENTS = ["test_run", "workflow", "alert", "component", "agent", "annotation"];
const MARKS_MIN_WIDTH = 300; // px: the marks' resolution before a chart is laid out (a phone's plot)
const MARKS_SETTLE_MS = 150; // events come in bursts (a run's start and its first results): one fetch for a burst
const HIDDEN_KEY = "dashboard.marks.hidden";
const POINT_HIT_PX = 5;
const ZONES = new Map();

// -- time: the axis shows the viewer's wall time as if it were UTC (as the server draws it)

function zoneFormat(tz) {
  let format = ZONES.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    ZONES.set(tz, format);
  }
  return format;
}

function offsetMs(utcMs, tz) {
  if (tz === "UTC") return 0;
  const parts = {};
  for (const { type, value } of zoneFormat(tz).formatToParts(new Date(utcMs))) parts[type] = Number(value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
  return wall - Math.floor(utcMs / 1000) * 1000;
}

const wallOf = (utcMs, tz) => utcMs + offsetMs(utcMs, tz);

function utcOf(wallMs, tz) {
  const guess = wallMs - offsetMs(wallMs, tz);
  return wallMs - offsetMs(guess, tz);
}

function shownTime(utcMs, tz, withDate = true) {
  const text = new Date(wallOf(utcMs, tz)).toISOString(); // wall time, read as UTC
  return withDate ? `${text.slice(0, 10)} ${text.slice(11, 19)}` : text.slice(11, 19);
}

function axisMs(value) {
  // plotly gives date-axis values as "2026-12-06 10:32:05.123" (wall time) or as numbers
  if (typeof value === "number") return value;
  const parsed = Date.parse(`${String(value).replace(" ", "T")}Z`);
  return Number.isNaN(parsed) ? null : parsed;
}

// -- fetching and following ------------------------------------------------------------

function startMarks(state) {
  state.marks ??= { list: [], json: "", hidden: readHidden(), chips: null };
  if (state.source) return;
  const source = new EventSource("api/events/stream", { withCredentials: true });
  const changed = () => {
    clearTimeout(state.marks.settle);
    state.marks.settle = setTimeout(() => refreshMarks(state), MARKS_SETTLE_MS);
  };
  for (const kind of MARK_EVENTS) source.addEventListener(kind, changed);
  // A stream (re)opened hears only what comes next: what came before it is fetched once.
  source.addEventListener("open", changed);
  state.source = source;
}

function stopMarks(state) {
  state.source?.close();
  state.source = null;
  clearTimeout(state.marks?.settle);
  state.marksController?.abort();
  hideTip(state);
}

// A live window's marks up to the server's now (the browser's clock may differ from it).
// The widest chart's plot width: marks narrower than a pixel there come merged (a 30-day
// window of a suite run every 10 minutes is thousands of bands, most on one pixel).
function marksQuery(state) {
  const p = state.payload;
  const iso = (ms) => new Date(ms).toISOString();
  const widths = [...(state.charts?.values() ?? [])].map((c) => c.div?._fullLayout?._size?.w ?? 0);
  const width = `&width=${Math.round(Math.max(MARKS_MIN_WIDTH, ...widths))}`;
  if (!state.data.live || !p.window.live) return `start=${iso(p.window.start)}&end=${iso(p.window.end)}${width}`;
  return `start=${iso(Date.now() + state.skew - p.window.span)}${width}`;
}

async function refreshMarks(state) {
  if (!state.payload || state.stopped) return;
  if (document.hidden) {
    // fetched when the tab is shown again (the charts' own tick does not know about marks)
    const again = () => {
      document.removeEventListener("visibilitychange", again);
      refreshMarks(state);
    };
    document.addEventListener("visibilitychange", again);
    return;
  }
  // One read at a time: a change while one is on its way asks again when it ends (its answer
  // may be of an older window), rather than aborting it (a wasted request, and a failed one
  // in the browser's log).
  if (state.marksController) {
    state.marks.again = true;
    return;
  }
  const controller = new AbortController();
  state.marksController = controller;
  let page = null;
  try {
    const response = await fetch(`api/timeline/marks?${marksQuery(state)}`, {
      credentials: "same-origin",
      signal: controller.signal,
    });
    if (response.ok) page = await response.json(); // no marks drawn is better than a chart in error
  } catch (_) {
    page = null;
  } finally {
    state.marksController = null;
  }
  if (state.stopped) return;
  if (state.marks.again) {
    state.marks.again = false;
    refreshMarks(state);
    return;
  }
  if (!page) return;
  const json = JSON.stringify(page.marks);
  if (json === state.marks.json) return; // nothing new: nothing redrawn
  state.marks.json = json;
  state.marks.list = unpackMarks(page.marks, state.data.tz);
  extendMarks(state);
  state.marks.shapes = null;
  fillChips(state);
  draw(state);
}

// The route's compact form (docs/events.md): marks grouped by kind, times in epoch ms, and a
// field left out when it has its default: no end is a point, no ongoing is false, no
// detail or href is none.
function unpackMarks(byKind, tz) {
  const list = [];
  for (const [kind, marks] of Object.entries(byKind ?? {})) {
    for (const m of marks) {
      const s = m.start;
      const e = m.end ?? null;
      list.push({ ...m, kind, ongoing: m.ongoing ?? false, detail: m.detail ?? "", href: m.href ?? null, s, e, xs: wallOf(s, tz), xe: e === null ? null : wallOf(e, tz) });
    }
  }
  return list;
}

// An ongoing span reaches the newest point the charts hold.
function extendMarks(state) {
  if (state.last === null || state.last === undefined || !state.marks) return;
  for (const mark of state.marks.list) {
    if (mark.ongoing && mark.e !== null && state.last > mark.e) {
      mark.e = state.last;
      mark.xe = wallOf(mark.e, state.data.tz);
      state.marks.shapes = null;
    }
  }
}

// -- kinds shown ------------------------------------------------------------------------

function readHidden() {
  try {
    return new Set(JSON.parse(localStorage.getItem(HIDDEN_KEY) || "[]"));
  } catch (_) {
    return new Set();
  }
}

function shownMarks(state) {
  return (state.marks?.list ?? []).filter((m) => !state.marks.hidden.has(m.kind));
}

function marksChips(state) {
  const row = el("div", "dl-chips");
  row.dataset.testid = "dlMarkKinds";
  row.hidden = true;
  state.marks.chips = row;
  fillChips(state);
  return row;
}

// A chip for each kind in the window (with its count); a click shows or hides the kind on every chart.
function fillChips(state) {
  const row = state.marks?.chips;
  if (!row) return;
  const counts = new Map();
  for (const mark of state.marks.list) counts.set(mark.kind, (counts.get(mark.kind) ?? 0) + 1);
  const labels = Object.fromEntries(state.data.mark_kinds ?? []);
  const kinds = Object.keys(labels).filter((k) => counts.has(k));
  for (const k of counts.keys()) if (!kinds.includes(k)) kinds.push(k);
  row.replaceChildren();
  if (kinds.length) row.append(el("span", "dl-chips-title", "Marks:"));
  for (const kind of kinds) {
    const chip = el("button", "dl-chip", `${labels[kind] ?? kind} (${counts.get(kind)})`);
    chip.type = "button";
    chip.dataset.kind = kind;
    chip.setAttribute("aria-pressed", String(!state.marks.hidden.has(kind)));
    chip.title = "Show or hide these marks on every chart";
    chip.addEventListener("click", () => {
      const hidden = state.marks.hidden;
      if (hidden.has(kind)) hidden.delete(kind);
      else hidden.add(kind);
      try {
        localStorage.setItem(HIDDEN_KEY, JSON.stringify([...hidden]));
      } catch (_) {
        /* private mode: remembered until the page is left */
      }
      chip.setAttribute("aria-pressed", String(!hidden.has(kind)));
      state.marks.shapes = null;
      draw(state);
    });
    row.append(chip);
  }
  row.hidden = !kinds.length;
}

// -- drawing ----------------------------------------------------------------------------

// Bands under the lines (above a heatmap, which would hide them), dotted lines for points.
// Overlapping spans of one colour are drawn as one band: a dozen components down at once
// would otherwise stack their translucency into an opaque wash over the data (each keeps
// its own handle in the lane).
function markShapes(state, chart) {
  if (!state.marks) return [];
  if (!state.marks.shapes) {
    const shown = shownMarks(state);
    const bands = unionByColour(shown.filter((m) => m.xe !== null));
    const build = (layer, opacity) => [
      ...bands.map(([colour, x0, x1]) => (
        { type: "rect", xref: "x", yref: "paper", x0, x1, y0: 0, y1: 1, layer, opacity, fillcolor: colour, line: { width: 0 } }
      )),
      ...shown.filter((m) => m.xe === null).map((m) => (
        { type: "line", xref: "x", yref: "paper", x0: m.xs, x1: m.xs, y0: 0, y1: 1, layer, line: { color: m.colour, width: 1.5, dash: "dot" } }
      )),
    ];
    state.marks.shapes = { below: build("below", 0.15), above: build("above", 0.2) };
  }
  return chart.data.some((t) => t.type === "heatmap") ? state.marks.shapes.above : state.marks.shapes.below;
}

// [colour, start, end] per run of overlapping spans of one colour.
function unionByColour(spans) {
  const out = [];
  const byColour = new Map();
  for (const m of spans) (byColour.get(m.colour) ?? byColour.set(m.colour, []).get(m.colour)).push(m);
  for (const [colour, list] of byColour) {
    list.sort((a, b) => a.xs - b.xs);
    let [x0, x1] = [list[0].xs, list[0].xe];
    for (const m of list.slice(1)) {
      if (m.xs <= x1) x1 = Math.max(x1, m.xe);
      else {
        out.push([colour, x0, x1]);
        [x0, x1] = [m.xs, m.xe];
      }
    }
    out.push([colour, x0, x1]);
  }
  return out;
}

function markLane(state, chart, wrap) {
  const lane = el("div", "dl-lane");
  lane.dataset.testid = "dlMarkLane";
  lane.handles = new Map();
  wrap.append(lane);
  return lane;
}

function setStyle(node, name, value) {
  if (node.style[name] !== value) node.style[name] = value;
}

// The lane over the plot area's width, one handle (a link) per mark shown, placed on the axis.
function placeLane(state, chart) {
  const size = chart.div._fullLayout?._size;
  const lane = chart.lane;
  if (!size || !chart.range || !lane) return;
  setStyle(lane, "left", `${size.l}px`);
  setStyle(lane, "width", `${size.w}px`);
  setStyle(lane, "top", `${Math.max(0, size.t - LANE_H - 2)}px`);
  const [a, b] = chart.range;
  const px = (x) => ((x - a) / (b - a)) * size.w;
  const keep = new Set();
  for (const mark of shownMarks(state)) {
    const left = px(mark.xs);
    const right = mark.xe === null ? left : px(mark.xe);
    if (right < -POINT_HIT_PX || left > size.w + POINT_HIT_PX) continue;
    keep.add(mark.key);
    let handle = lane.handles.get(mark.key);
    if (!handle) {
      handle = el(mark.href ? "a" : "span", "dl-mark");
      handle.dataset.testid = "dlMark";
      handle.dataset.kind = mark.kind;
      handle.addEventListener("mouseenter", (event) => showTip(state, [handle.mark], event));
      handle.addEventListener("mousemove", (event) => showTip(state, [handle.mark], event));
      handle.addEventListener("mouseleave", () => hideTip(state));
      lane.handles.set(mark.key, handle);
      lane.append(handle);
    }
    handle.mark = mark;
    if (mark.href) setAttr(handle, "href", new URL(mark.href, document.baseURI).href);
    setAttr(handle, "aria-label", mark.label);
    setAttr(handle, "class", mark.xe === null ? "dl-mark dl-mark-point" : "dl-mark");
    setStyle(handle, "background", mark.colour);
    if (mark.xe === null) {
      setStyle(handle, "left", `${Math.round(left - LANE_H / 2)}px`);
      setStyle(handle, "width", `${LANE_H}px`);
    } else {
      const l = Math.max(0, left);
      const r = Math.min(size.w, right);
      setStyle(handle, "left", `${Math.round(l)}px`);
      setStyle(handle, "width", `${Math.max(3, Math.round(r - l))}px`);
    }
  }
  for (const [key, handle] of lane.handles) {
    if (!keep.has(key)) {
      handle.remove();
      lane.handles.delete(key);
    }
  }
}

// -- hover and click ---------------------------------------------------------------------

function hookMarks(state, chart) {
  // Over a band on the plot: the same words as over its handle (the plot's own hover label stays).
  chart.div.addEventListener("mousemove", (event) => {
    const size = chart.div._fullLayout?._size;
    if (!size || !chart.range || !state.marks?.list.length) return;
    const rect = chart.div.getBoundingClientRect();
    const x = event.clientX - rect.left - size.l;
    const y = event.clientY - rect.top - size.t;
    if (x < 0 || x > size.w || y < 0 || y > size.h) return hideTip(state);
    const [a, b] = chart.range;
    const at = a + (x / size.w) * (b - a);
    const slack = (POINT_HIT_PX / size.w) * (b - a);
    const under = shownMarks(state).filter((m) =>
      m.xe === null ? Math.abs(m.xs - at) <= slack : m.xs <= at && at <= m.xe,
    );
    if (under.length) showTip(state, under, event);
    else hideTip(state);
  });
  chart.div.addEventListener("mouseleave", () => hideTip(state));
  chart.div.on("plotly_click", (event) => {
    const value = event?.xvals?.[0] ?? event?.points?.[0]?.x;
    const wall = value === undefined ? null : axisMs(value);
    if (wall !== null) openMoment(state, chart, utcOf(wall, state.data.tz));
  });
}

function showTip(state, marks, event) {
  if (!state.tip) {
    state.tip = el("div", "dl-tip");
    state.tip.dataset.testid = "dlMarkTip";
    state.tip.setAttribute("role", "tooltip");
    document.body.append(state.tip);
  }
  const tz = state.data.tz;
  const text = marks
    .map((m) => {
      const sameDay = m.e !== null && shownTime(m.s, tz).slice(0, 10) === shownTime(m.e, tz).slice(0, 10);
      const when =
        m.e === null ? shownTime(m.s, tz) : `${shownTime(m.s, tz)} – ${shownTime(m.e, tz, !sameDay)}${m.ongoing ? " (going on)" : ""}`;
      return [m.label, m.detail, when].filter(Boolean).join("\n");
    })
    .join("\n\n");
  setText(state.tip, text);
  state.tip.hidden = false;
  const x = Math.min(event.clientX + 12, window.innerWidth - state.tip.offsetWidth - 8);
  const y = event.clientY + 16 + state.tip.offsetHeight > window.innerHeight ? event.clientY - state.tip.offsetHeight - 8 : event.clientY + 16;
  setStyle(state.tip, "left", `${Math.max(0, x)}px`);
  setStyle(state.tip, "top", `${Math.max(0, y)}px`);
}

function hideTip(state) {
  if (state.tip && !state.tip.hidden) state.tip.hidden = true;
}

// -- a moment: what ran when the plot was clicked ------------------------------------------

async function openMoment(state, chart, utcMs) {
  const panel = momentPanel(state);
  chart.box.append(panel.node); // under the chart clicked, in view
  const tz = state.data.tz;
  setText(panel.title, `At ${shownTime(utcMs, tz)}`);
  setText(panel.note, "Reading the processes of that moment…");
  panel.body.hidden = true;
  panel.controller?.abort();
  panel.controller = new AbortController();
  let body;
  try {
    const response = await fetch(`api/metrics/processes/at?at=${new Date(utcMs).toISOString()}`, {
      credentials: "same-origin",
      signal: panel.controller.signal,
    });
    if (response.status === 404) {
      setText(panel.note, "Not available: this server keeps no process snapshots to look back at.");
      return;
    }
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (await response.json()).message || message;
      } catch (_) {
        /* not a JSON error body */
      }
      setText(panel.note, `The processes of that moment could not be read (${message}).`);
      return;
    }
    body = await response.json();
  } catch (err) {
    if (err.name !== "AbortError") setText(panel.note, `The processes of that moment could not be read (${err.message}).`);
    return;
  }
  const at = body.at ? Date.parse(body.at) : null;
  setText(panel.title, at === null ? `At ${shownTime(utcMs, tz)}` : `At ${shownTime(utcMs, tz)} (snapshot of ${shownTime(at, tz, false)})`);
  setText(panel.note, body.note || "");
  panel.body.hidden = at === null && !(body.running ?? []).length;
  fillTable(panel.tables.cpu, body.by_cpu ?? []);
  fillTable(panel.tables.memory, body.by_memory ?? []);
  panel.tablesBox.hidden = at === null;
  panel.running.replaceChildren();
  for (const mark of body.running ?? []) {
    const item = el("li");
    const link = el(mark.href ? "a" : "span", "", mark.label);
    if (mark.href) link.href = new URL(mark.href, document.baseURI).href;
    item.append(link);
    if (mark.detail) item.append(el("span", "dl-since", ` · ${mark.detail}`));
    panel.running.append(item);
  }
  panel.runningBox.hidden = !(body.running ?? []).length;
}

function momentPanel(state) {
  if (state.moment) return state.moment;
  const node = el("div", "dl-moment");
  node.dataset.testid = "dlMoment";
  const top = el("div", "dl-moment-head");
  const title = el("span", "dl-table-title");
  const close = el("button", "dl-chip", "Close");
  close.type = "button";
  close.addEventListener("click", () => {
    state.moment.controller?.abort();
    node.remove();
  });
  top.append(title, close);
  const note = el("div", "dl-note-plain");
  const body = el("div", "dl-moment-body");
  const runningBox = el("div");
  runningBox.append(el("div", "dl-table-title", "Going on"));
  const running = el("ul", "dl-running");
  running.dataset.testid = "dlMomentRunning";
  runningBox.append(running);
  const tablesBox = el("div", "dl-moment-tables dl-processes");
  const tables = {};
  for (const [by, heading] of [["cpu", "By CPU"], ["memory", "By memory"]]) {
    const box = el("div", "dl-table-box");
    const table = el("table", "dl-table");
    table.dataset.testid = `dlMoment-${by}`;
    const head = table.createTHead().insertRow();
    for (const [, label] of PROCESS_COLUMNS) head.append(el("th", "", label));
    box.append(el("div", "dl-table-title", heading), table);
    tablesBox.append(box);
    tables[by] = table.createTBody();
  }
  body.append(runningBox, tablesBox);
  node.append(top, note, body);
  state.moment = { node, title, note, body, tables, tablesBox, running, runningBox };
  return state.moment;
}
