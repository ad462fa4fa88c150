"""A figure for ``st.plotly_chart`` that is only its sent dict (see
:mod:`dashboard_core.metrics.figure_cache`): the pages that draw charts through
Streamlit (the fleet view) import Plotly here; the live Metrics page does not."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go


class SentFigure(go.Figure):  # type: ignore[misc]  # plotly has no types: go.Figure is Any to mypy
    """A figure as Streamlit sends it: its JSON-shaped dict and nothing else.

    ``st.plotly_chart`` calls ``to_dict()`` (a deep copy) and encodes the result
    as JSON, for every session and every redraw: about 10 ms for the ten charts.
    This dict is already in JSON form (arrays as base64), which leaves each
    session an encoding of strings and numbers, about 2 ms.

    Only the dict is kept, not the figure's object graph (validators, a copy of
    the template), and the template keeps the defaults of the trace types the
    figure draws, not of all 25 it styles, in one copy shared by all figures: a
    full cache held 25,000 objects for every full garbage collection to walk
    (which holds the GIL, so the API waits), and now holds 2,000.
    """

    _sent: dict[str, Any]

    @classmethod
    def of(cls, sent: dict[str, Any]) -> SentFigure:
        """``sent``: a figure in its sent form (``figure_cache.sent_form``)."""
        shell = cls.__new__(cls)  # no Figure.__init__: nothing to build or walk
        shell._sent = sent
        return shell

    def to_dict(self) -> dict[str, Any]:
        return self._sent

    def to_plotly_json(self) -> dict[str, Any]:
        return self._sent

    def __repr__(self) -> str:
        return f"SentFigure({self._sent.get('layout', {}).get('title', {}).get('text', '')!r})"
