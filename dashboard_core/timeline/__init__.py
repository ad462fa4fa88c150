"""One time axis: what happened when (runs, restarts, alerts, state changes,
annotations) as marks every time chart draws, and the story of a window."""
