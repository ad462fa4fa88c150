"""``python -m dashboard_core``: see :mod:`dashboard_core.cli`."""

from dashboard_core.cli import main

raise SystemExit(main())
