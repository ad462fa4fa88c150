"""A run's resource story on the Tests and Workflows pages: its chart and its
sentence, both made in dashboard_core (app.run_story, timeline.run_story)."""

from __future__ import annotations

import streamlit as st

from dashboard_core.models.resources import RunResources
from dashboard_core.timeline.run_story import story_figure


def run_story(story: RunResources, tz: str, key: str) -> None:
    st.markdown("**Resources**")
    figure = story_figure(story, tz)
    if figure is None:
        st.caption(story.note)
        return
    st.plotly_chart(figure, key=key, config={"displaylogo": False})
    st.caption(story.summary)
