"""Fixtures for the store tests (helpers live in store_helpers.py)."""

from __future__ import annotations

import pytest
from store_helpers import CATALOG

from openai_casb.store import Integration, Store


@pytest.fixture
def integration(store: Store) -> Integration:
    store.sync_finding_types(CATALOG)
    return store.ensure_integration("org-acme", "ws-acme", "Acme")
