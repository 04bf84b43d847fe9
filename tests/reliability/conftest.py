"""Fixtures for the reliability campaigns' short versions (CI): the PostgreSQL server to use.

The campaigns themselves live beside the tests (campaign_*.py), so that
bench/reliability/ runs their full versions with the same code.
"""

from __future__ import annotations

import pytest

from support.postgres_schema import POSTGRES_URL_VARIABLE, postgres_url_from_environment


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    """The test server's URL; each campaign makes (and drops) a schema of its own on it."""
    url = postgres_url_from_environment()
    if url is None:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: no PostgreSQL to test against")
    return url


@pytest.fixture(scope="session")
def postgres_or_none() -> str | None:
    """The test server's URL when there is one: campaigns that can also run on SQLite."""
    return postgres_url_from_environment()
