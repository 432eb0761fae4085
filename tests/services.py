"""Tests that need a server: skipped on a developer's machine without it, failed under CI=true.

A green CI therefore always means PostgreSQL and Mosquitto were exercised.
"""
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{name} is required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)
