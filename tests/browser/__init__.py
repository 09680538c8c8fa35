"""Browser tests: the built site in real Chromium (issue 4)."""
