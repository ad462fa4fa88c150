"""A page whose fragment timers outlived a full rerun gets that run again
(ui/streamlit_internals.py: heal_stuck_fragment_timers).

Streamlit drops every tick of a fragment it no longer has; when a race lost the full
rerun's end on its way to the browser, the page ticks such a fragment forever and never
updates. The test makes a real AppSession, as the server does, and sends it the ticks
such a page sends; what the session would run is recorded instead of run.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.script_data import ScriptData
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

from tests.asyncrun import run_async
from ui.streamlit_internals import heal_stuck_fragment_timers

ROUTER = Path(__file__).resolve().parents[2] / "ui" / "router.py"


@pytest.fixture
def unguarded() -> Iterator[None]:
    """AppSession as Streamlit ships it, restored afterwards."""
    original = AppSession.request_rerun
    AppSession.request_rerun = inspect.unwrap(original)  # type: ignore[method-assign]
    yield
    AppSession.request_rerun = original  # type: ignore[method-assign]


def tick(fragment: str) -> ClientState:
    """What a browser's run_every timer sends: the fragment, flagged as an auto-rerun."""
    state = ClientState(fragment_id=fragment, is_auto_rerun=True, page_name="tests", query_string="run=2")
    state.widget_states.widgets.add(id="$$ID-tests_suite", string_value="demo")
    return state


def test_a_page_ticking_a_fragment_gone_since_a_full_rerun_gets_the_full_rerun_again(unguarded: None) -> None:
    async def scenario() -> list[RerunData]:
        session = AppSession(
            ScriptData(str(ROUTER)), MemoryUploadedFileManager("/upload"), ScriptCache(), None, {"email": "t@x.org"}
        )
        ran: list[RerunData] = []
        session._create_scriptrunner = ran.append  # type: ignore[method-assign]  # record, do not run
        try:
            for _ in range(3):  # Streamlit's behaviour: every tick of an unknown fragment dropped
                session.request_rerun(tick("gone"))
            assert ran == []

            heal_stuck_fragment_timers()
            heal_stuck_fragment_timers()  # applying it twice wraps once
            assert not hasattr(AppSession.request_rerun.__wrapped__, "__wrapped__")
            session.request_rerun(tick("gone"))  # one stale tick can be in flight (STALE_TICKS_BEFORE_HEALING): dropped
            assert ran == []
            session.request_rerun(tick("gone"))  # a second: the page is stuck, run it whole
            assert len(ran) == 1
            whole = ran[0]
            assert whole.fragment_id is None and not whole.is_auto_rerun
            assert (whole.page_name, whole.query_string) == ("tests", "run=2")  # the browser's own page
            assert [w.id for w in whole.widget_states.widgets] == ["$$ID-tests_suite"]  # and widget states
            session.request_rerun(tick("gone"))  # counted afresh: one tick after healing is dropped
            assert len(ran) == 1
            return ran
        finally:
            session.shutdown()

    run_async(scenario())
