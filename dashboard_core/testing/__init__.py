"""Test suites: running them in subprocesses, reading their progress, keeping results."""
