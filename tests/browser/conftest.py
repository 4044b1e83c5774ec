"""Browser level: headless Chromium (Debian's, through Playwright) against a served app and real PostgreSQL.

Every test under tests/browser/ is marked `browser` here. Screenshots go to test-artifacts/ at the repository root.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this level before `-m` selects (tryfirst: ahead of pytest's own deselection)."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)
