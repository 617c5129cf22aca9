"""Review reports: small hand-built templates; one end-to-end test (marked ``e2e``)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here so `--strict-markers` accepts it; it runs in the normal suite
    # (deselect with `-m "not e2e"` for a fast loop).
    config.addinivalue_line(
        "markers", "e2e: end-to-end test that synthesizes the app twice (~90 s)"
    )
