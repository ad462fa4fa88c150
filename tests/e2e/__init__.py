"""End-to-end tests: a real `streamlit run` server, real HTTP, real headless Chromium."""
