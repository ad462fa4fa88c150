"""``python -m ui.launch run streamlit_app.py [options]``: Streamlit's command line as
``dashboard serve`` starts it, after what has to happen before Streamlit is imported.

Streamlit registers its Plotly theme while it is imported, by building Plotly
objects: that loads ``plotly.graph_objects``, narwhals and the JSON of every Plotly
validator, about 16 MiB resident, in a server that draws nothing until someone
opens a page (issue 22: an idle server holds at most 150 MiB). So Streamlit is
imported here with ``plotly.graph_objects`` out of reach (its theme code skips a
Plotly it cannot import), and the theme is registered right after the first import
of ``plotly.graph_objects``, by whichever page or request needs it first, before
any figure exists (:func:`ui.streamlit_internals.register_plotly_theme`). Started
as ``streamlit run streamlit_app.py``, the server works the same and holds those
16 MiB from the start.

Nothing else of the dashboard is imported here: this module runs before Streamlit.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

PLOTLY = "plotly.graph_objects"


def import_streamlit_without_plotly() -> bool:
    """Import Streamlit with ``plotly.graph_objects`` out of reach, and register its
    Plotly theme once that is first imported. False if it is too late for that
    (Streamlit or Plotly already imported): then nothing changes."""
    if "streamlit" in sys.modules or PLOTLY in sys.modules:
        return False
    sys.modules[PLOTLY] = None  # type: ignore[assignment]  # importing it now raises ImportError
    try:
        import streamlit  # noqa: F401
    finally:
        del sys.modules[PLOTLY]
    sys.meta_path.insert(0, ThemeAfterPlotly())
    return True


class ThemeAfterPlotly(importlib.abc.MetaPathFinder):
    """Finds ``plotly.graph_objects`` as Python would, once, and registers Streamlit's
    Plotly theme as soon as the module has run (in the thread that imported it,
    under its import lock, so no other thread sees Plotly without the theme)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != PLOTLY:
            return None
        sys.meta_path.remove(self)  # once: from here on Python finds it alone
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            from ui.streamlit_internals import register_plotly_theme

            register_plotly_theme()

        loader.exec_module = exec_module  # type: ignore[method-assign]  # this module's own loader object
        return spec


def main(argv: list[str] | None = None) -> None:
    import_streamlit_without_plotly()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
