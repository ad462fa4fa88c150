"""Component health checks, the agent registry and safety (alert) rules."""
