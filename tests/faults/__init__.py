"""Faults, each done for real: kill -9 of a server during a workflow run, a full
disk under the store, every metric source raising, health checks that hang.

After each the dashboard keeps serving, says what happened (the exact words are
asserted) and loses nothing it had already recorded.
"""
