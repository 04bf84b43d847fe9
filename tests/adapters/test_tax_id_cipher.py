"""Taxpayer ids sealed with Fernet: a fresh token each time, opened only with its key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from adapters.crypto import FernetTaxIds
from fantasy_core.errors import InvalidConfiguration


def test_sealed_ids_open_only_with_their_key() -> None:
    cipher = FernetTaxIds(Fernet.generate_key().decode())
    first, second = cipher.seal("123456789"), cipher.seal("123456789")
    assert first != second  # a fresh IV each time
    assert "6789" not in first
    assert cipher.open(first) == "123456789"
    with pytest.raises(InvalidConfiguration):
        FernetTaxIds(Fernet.generate_key().decode()).open(first)
    with pytest.raises(InvalidConfiguration):
        FernetTaxIds("not a key")
