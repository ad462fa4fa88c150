"""Workflows: configured jobs of ordered steps, and services, supervised by the dashboard."""
