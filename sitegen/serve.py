"""Live preview (placeholder until the staff-workflow issue lands)."""

from __future__ import annotations

from pathlib import Path


def serve(root: Path, host: str, port: int) -> int:
    """Build into a private folder, serve it, rebuild on change."""
    raise NotImplementedError
