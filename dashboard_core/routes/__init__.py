"""The API's routes, one module per area; :mod:`dashboard_core.api` assembles them."""
