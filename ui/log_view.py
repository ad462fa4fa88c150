"""A live log: the newest lines of a process's output in a scrolling monospace box.

A Streamlit v2 component, so the box stays in the page while the fragment
around it reruns: each rerun hands the JavaScript the new lines, which it
merges into the lines shown (the lines gone from the top of the tail removed,
the new ones added below). It opens scrolled to the bottom and follows new
output while the view is at the bottom; once the person scrolls up it keeps
what they read in place and offers "New output below"; back at the bottom it
follows again. Log text only ever goes in as text (``textContent``). What the
lines are (whole lines, the current attempt, whether earlier output exists) is
decided in :mod:`dashboard_core.processes.log_tail`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard_core.processes.log_tail import shown_lines

EARLIER = "… earlier output is in the"
WHOLE_LOG = "whole log"
JUMP = "New output below: jump to the newest"

HTML = f"""
<div class="log-view">
  <div class="log-box" role="log" tabindex="0">
    <div class="log-earlier" hidden>{EARLIER} <a class="log-link">{WHOLE_LOG}</a></div>
    <div class="log-lines"></div>
    <div class="log-empty" hidden></div>
  </div>
  <button class="log-jump" type="button" hidden>{JUMP}</button>
</div>
"""

CSS = """
.log-view { position: relative; }
.log-box {
  box-sizing: border-box;
  overflow: auto;
  overflow-anchor: none; /* the script keeps the view in place itself */
  overscroll-behavior: contain; /* scrolling past its end does not scroll the page */
  padding: 0.75rem 1rem;
  border-radius: var(--st-base-radius, 0.5rem);
  background: var(--st-code-background-color, var(--st-secondary-background-color));
  color: var(--st-text-color);
  font-family: var(--st-code-font, monospace);
  font-size: var(--st-code-font-size, 0.875rem);
  line-height: 1.5;
}
.log-line { white-space: pre-wrap; overflow-wrap: anywhere; min-height: 1.5em; }
.log-earlier, .log-empty { font-family: var(--st-font, sans-serif); opacity: 0.7; }
.log-earlier { margin-bottom: 0.25rem; font-style: italic; }
.log-earlier a { color: var(--st-link-color, var(--st-primary-color)); }
.log-jump {
  position: absolute;
  left: 50%;
  bottom: 0.75rem;
  transform: translateX(-50%);
  padding: 0.25rem 0.75rem;
  border: none;
  border-radius: 1rem;
  background: var(--st-primary-color);
  color: var(--st-background-color, white);
  font-family: var(--st-font, sans-serif);
  font-size: 0.8rem;
  white-space: nowrap;
  cursor: pointer;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3);
}
[hidden] { display: none !important; }
"""

JS = """
const SLACK = 8; // px: at the bottom, give or take rounding

function atBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight <= SLACK;
}

// How many lines left the top since the last view: the old lines after them are the
// new lines' beginning (the last old line may have grown since).
function dropped(old, lines) {
  for (let d = 0; d < old.length; d++) {
    const same = old.length - 1 - d;
    if (lines.length < same + 1) continue;
    let i = 0;
    while (i < same && old[d + i] === lines[i]) i++;
    if (i === same) return d;
  }
  return old.length;
}

function lineElement(text) {
  const line = document.createElement("div");
  line.className = "log-line";
  line.textContent = text;
  return line;
}

export default function ({ parentElement, data }) {
  const box = parentElement.querySelector(".log-box");
  const list = parentElement.querySelector(".log-lines");
  const link = parentElement.querySelector(".log-link");
  const empty = parentElement.querySelector(".log-empty");
  const jump = parentElement.querySelector(".log-jump");
  // Kept on the parent: this function runs again with new data on every rerun.
  const state = (parentElement.logView ??= { stream: null, list: null, lines: [], follow: true, pinned: 0, calls: 0 });
  const call = ++state.calls;

  const pin = () => {
    box.scrollTop = box.scrollHeight;
    state.pinned = box.scrollTop;
    jump.hidden = true;
  };
  if (state.stream !== data.stream || state.list !== list) {  // another step or run: afresh, at the bottom
    list.replaceChildren();
    Object.assign(state, { stream: data.stream, list, lines: [], follow: true });
  } else if (box.clientHeight === 0) {
    // hidden (a closed expander): nothing was scrolled; the resize observer pins it when shown
  } else if (state.follow) {
    state.follow = box.scrollTop >= state.pinned - 1;  // scrolled up since (its scroll event may be on the way)
  } else {
    state.follow = atBottom(box);  // back at the bottom
  }
  box.style.height = `${data.height}px`;

  const old = state.lines, lines = data.lines;
  const gone = dropped(old, lines);
  const anchor = gone < old.length ? list.children[gone] : null;
  const before = anchor ? anchor.offsetTop : 0;
  for (let i = 0; i < gone; i++) list.firstElementChild.remove();
  const kept = old.length - gone;
  let grew = gone === old.length && lines.length > 0;
  if (kept > 0 && list.lastElementChild.textContent !== lines[kept - 1]) {
    list.lastElementChild.textContent = lines[kept - 1];
    grew = true;
  }
  if (lines.length > kept) {
    list.append(...lines.slice(kept).map(lineElement));
    grew = true;
  }
  state.lines = lines.slice();
  parentElement.querySelector(".log-earlier").hidden = !data.earlier;
  if (data.log) {
    link.href = data.log.href;
    link.download = data.log.name;
  } else {
    link.removeAttribute("href");
  }
  empty.textContent = data.empty;
  empty.hidden = lines.length > 0;

  if (state.follow) {
    pin();
  } else {
    if (anchor) box.scrollTop += anchor.offsetTop - before;  // what they read stays where it was
    if (grew) jump.hidden = false;
  }

  if (!state.unwire) {  // once per box: Streamlit calls only the last cleanup, at unmount
    const onScroll = () => {
      state.follow = atBottom(box);
      if (state.follow) {
        state.pinned = box.scrollTop;
        jump.hidden = true;
      }
    };
    const onJump = () => {
      state.follow = true;
      pin();
    };
    const resized = new ResizeObserver(() => state.follow && pin());  // shown, or wider: still the newest
    box.addEventListener("scroll", onScroll);
    jump.addEventListener("click", onJump);
    resized.observe(box);
    state.unwire = () => {
      box.removeEventListener("scroll", onScroll);
      jump.removeEventListener("click", onJump);
      resized.disconnect();
      state.unwire = null;
    };
  }
  // A call overtaken by a newer one (a quick rerun) is cleaned up late: only the newest unwires.
  return () => call === state.calls && state.unwire?.();
}
"""

_component = st.components.v2.component("dashboard_log_view", html=HTML, css=CSS, js=JS)


def log_view(
    text: str | None,
    *,
    earlier: bool | None,
    stream: str,
    key: str,
    height: int = 300,
    empty: str = "(no output yet)",
    whole_log: tuple[str, str] | None = None,
) -> None:
    """The log box. ``stream`` names what it shows (another stream starts afresh at the
    bottom); ``whole_log`` is the (href, file name) of the whole log, linked when
    earlier output is left out."""
    data: dict[str, Any] = {
        "stream": stream,
        "lines": shown_lines(text or ""),
        "earlier": bool(earlier),
        "empty": empty,
        "height": height,
        "log": {"href": whole_log[0], "name": whole_log[1]} if whole_log else None,
    }
    _component(key=key, data=data)
