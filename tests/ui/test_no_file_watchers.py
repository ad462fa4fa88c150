"""``server.fileWatcherType = "none"`` holds for reconnected sessions too (ui/streamlit_internals.py).

Streamlit gives a reconnecting session a source watcher whatever the setting,
and that watcher walks every loaded module's paths on the event loop after each
script run. The test makes a real AppSession and calls what a reconnect calls.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit import config
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.script_data import ScriptData
from streamlit.runtime.scriptrunner.script_cache import ScriptCache

from tests.asyncrun import run_async
from ui.streamlit_internals import no_file_watchers_on_reconnect

ROUTER = Path(__file__).resolve().parents[2] / "ui" / "router.py"


@pytest.fixture
def unguarded() -> Iterator[None]:
    """AppSession as Streamlit ships it, restored afterwards."""
    original = AppSession.register_file_watchers
    AppSession.register_file_watchers = inspect.unwrap(original)  # type: ignore[method-assign]
    setting = config.get_option("server.fileWatcherType")
    config.set_option("server.fileWatcherType", "none")
    yield
    config.set_option("server.fileWatcherType", setting)
    AppSession.register_file_watchers = original  # type: ignore[method-assign]


async def new_session() -> AppSession:
    """A session as the server makes one (AppSession needs the running loop)."""
    return AppSession(
        ScriptData(str(ROUTER)), MemoryUploadedFileManager("/upload"), ScriptCache(), None, {"email": "test@example.com"}
    )


def test_a_reconnected_session_gets_no_watcher_when_the_setting_says_none(unguarded: None) -> None:
    async def scenario() -> None:
        session = await new_session()
        try:
            assert session._local_sources_watcher is None  # a new session honours the setting
            session.register_file_watchers()  # what WebsocketSessionManager.connect_session does on a reconnect
            assert session._local_sources_watcher is not None  # Streamlit's behaviour: the guard is needed
            session.disconnect_file_watchers()

            no_file_watchers_on_reconnect()
            no_file_watchers_on_reconnect()  # applying it twice wraps once
            assert not hasattr(AppSession.register_file_watchers.__wrapped__, "__wrapped__")
            session.register_file_watchers()
            assert session._local_sources_watcher is None
        finally:
            session.shutdown()

    run_async(scenario())  # a loop of its own: a browser test before may leave one on this thread
