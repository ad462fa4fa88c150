"""The time axis' fast links are the pages' links, character for character: names that need
encoding, and times with fractions of a second (truncated to the second, as utc_iso does)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard_core.app.links import (
    agent_link,
    annotations_href,
    annotations_link,
    component_history,
    named_href,
    rule_link,
    suite_run_href,
    suite_run_link,
    workflow_run_href,
    workflow_run_link,
)

NAMES = ["smoke", "web & co", "ümlaut/slash?x=1", "#hash", " spaced "]


@pytest.mark.parametrize("name", NAMES)
def test_run_and_named_links_match_the_pages_links(name: str) -> None:
    assert suite_run_href(name, 12) == suite_run_link(name, 12).href
    assert workflow_run_href(name, 2**62) == workflow_run_link(name, 2**62).href
    for link in (agent_link, component_history, rule_link):
        assert named_href(link, name) == link(name).href


@pytest.mark.parametrize("epoch", [0.0, 1_767_261_600.0, 1_767_261_659.999_999, 4_102_444_800.5])
def test_an_annotation_link_matches_the_pages_link(epoch: float) -> None:
    at = datetime.fromtimestamp(epoch, UTC)
    assert (
        annotations_href(epoch, epoch + 90.25) == annotations_link(at, datetime.fromtimestamp(epoch + 90.25, UTC)).href
    )
