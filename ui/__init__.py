"""Streamlit UI: the router script and shared widgets (pages live in ../pages)."""
