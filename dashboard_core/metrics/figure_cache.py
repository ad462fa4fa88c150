"""Chart figures shared by every session that looks at the same data.

Each live Metrics page redraws its ten charts every few seconds, and most
viewers look at the same window: twenty of them would build the same figures
twenty times (about 20 ms of the server's one Python thread at a time each,
which the API then waits behind). Figures are keyed by the frame's content, so
sessions that read the same samples in the same second share one build, and a
changed sample, window or time zone is a new key. A cached figure is the
JSON-shaped dict Streamlit sends, so each session's copy costs an encoding of
strings, not a conversion of the figure.

A new sample is a new key, so with live viewers the cache misses about once a
second. A miss builds plain dicts (``figure_dict``), not plotly Figures, whose
validators made a miss cost ~30 ms of held GIL for ten 15-minute charts,
against ~3 ms now; tests check both send the same chart.

A cached figure is the JSON-shaped dict the browser draws (Streamlit's
``st.plotly_chart`` gets it wrapped in :class:`~dashboard_core.metrics.sent_figure.SentFigure`;
the live Metrics charts get it as it is from ``/api/ui/charts``), built without Plotly:
the live Metrics page's feed loads neither Plotly nor pandas (about 90 MiB).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from dashboard_core.metrics.charts import CHARTS, ChartSpec, build_figure, figure_dict
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.frame import Rows, as_rows

if TYPE_CHECKING:  # imported where used: the live Metrics page's feed needs neither
    import pandas as pd
    import plotly.graph_objects as go

Figures = list[tuple[ChartSpec, dict[str, Any]]]  # each chart's figure in the form it is sent

# Plotly's default template ("plotly") in JSON form, as ``plotly.io.templates["plotly"]``
# gives it (tests/metrics/test_figure_cache.py checks it still does): read from a file,
# so a figure is sent as a validated Figure would be without importing Plotly.
TEMPLATE_FILE = Path(__file__).with_name("plotly_template.json")


def sent_form(figure: go.Figure | dict[str, Any]) -> dict[str, Any]:
    """The figure as a JSON-shaped dict, its template's trace defaults cut to
    the trace types it draws (the others style nothing in it). A plain dict
    without a template gets the default one, as a Figure made from it would."""
    if isinstance(figure, dict):
        drawn = figure | {"data": [_typed_arrays(trace) for trace in figure.get("data", [])]}
        sent: dict[str, Any] = orjson.loads(
            orjson.dumps(drawn, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
        )
    else:  # a validated Figure (tests compare with it): its arrays are typed already
        import plotly.io

        sent = orjson.loads(plotly.io.to_json(figure.to_dict(), validate=False))
    layout = sent.setdefault("layout", {})
    template = layout.get("template") or default_template()
    if "data" in template:
        kinds = {trace.get("type", "scatter") for trace in sent.get("data", [])}
        template = template | {"data": {kind: v for kind, v in template["data"].items() if kind in kinds}}
    layout["template"] = _shared(template)
    return sent


_TYPED = {"float64": "f8", "float32": "f4", "int32": "i4", "int16": "i2", "int8": "i1", "uint8": "u1"}


def _typed_arrays(trace: dict[str, Any]) -> dict[str, Any]:
    """A trace with its numpy arrays as plotly.js typed arrays (base64 of the
    raw values), as a Figure's ``to_dict`` gives them: smaller than a list of
    numbers and cheaper to encode and to parse."""
    typed = dict(trace)
    for key, value in trace.items():
        if isinstance(value, np.ndarray) and value.size and str(value.dtype) in _TYPED:
            values = np.ascontiguousarray(value)
            typed[key] = {"dtype": _TYPED[str(values.dtype)], "bdata": base64.b64encode(values.data).decode("ascii")}
            if values.ndim > 1:
                typed[key]["shape"] = ", ".join(map(str, values.shape))
    return typed


@cache
def default_template() -> dict[str, Any]:
    """Plotly's default template in JSON form (read only: callers copy what they change)."""
    template: dict[str, Any] = orjson.loads(TEMPLATE_FILE.read_bytes())
    return template


_SHARED: dict[str, dict[str, Any]] = {}
_SHARED_LOCK = threading.Lock()


def _shared(part: dict[str, Any]) -> dict[str, Any]:
    """One object for equal parts of sent figures (their templates: a few, as
    there are only two kinds of trace), so a cache of eighty figures holds one
    copy and not eighty. Sent dicts are only read, never changed."""
    key = json.dumps(part, sort_keys=True)
    with _SHARED_LOCK:
        if len(_SHARED) > 64:  # a template that keeps changing: stop keeping them
            _SHARED.clear()
        return _SHARED.setdefault(key, part)


def build_figures(frame: Rows | pd.DataFrame, fields: FieldTable, tz: str = "UTC") -> list[tuple[ChartSpec, go.Figure]]:
    """Every chart in :data:`CHARTS` that has data in ``frame``, in order, as
    validated Figures (what the cache's figures are checked against)."""
    built = ((spec, build_figure(spec, frame, fields, tz)) for spec in CHARTS)
    return [(spec, fig) for spec, fig in built if fig is not None]


def sent_figures(frame: Rows | pd.DataFrame, fields: FieldTable, tz: str = "UTC") -> Figures:
    """Every chart in :data:`CHARTS` that has data in ``frame``, in order, in the
    form Streamlit sends, built without plotly's validators."""
    rows = as_rows(frame)
    built = ((spec, figure_dict(spec, rows, fields, tz)) for spec in CHARTS)
    return [(spec, sent_form(drawn)) for spec, drawn in built if drawn is not None]


def frame_digest(frame: Rows | pd.DataFrame) -> bytes:
    """A digest of the times, columns and every value (about 1 ms for an hour at 1 s)."""
    rows = as_rows(frame)
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(rows.ts_ns).tobytes())
    h.update("\0".join(rows.columns).encode())
    h.update(np.ascontiguousarray(rows.values).tobytes())
    return h.digest()


class FigureCache:
    """The last few frames' figures. Callers must not change a figure they get
    (Streamlit only reads it)."""

    def __init__(self, fields: FieldTable, size: int = 8) -> None:
        self.fields = fields
        self.size = size
        self._items: OrderedDict[tuple[str, bytes], Figures] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # for tests and the benchmark: how often the cache missed

    def figures(self, frame: Rows | pd.DataFrame, tz: str = "UTC") -> Figures:
        rows = as_rows(frame)
        key = (tz, frame_digest(rows))
        # Held while building, so sessions asking at the same moment wait for one build.
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
            built = sent_figures(rows, self.fields, tz)
            self.builds += 1
            self._items[key] = built
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return built
