"""A CSRF value with non-ASCII characters is a wrong token (403), not a server error: the comparison
is on UTF-8 bytes (hmac.compare_digest refuses non-ASCII str)."""

from __future__ import annotations

import pytest

from conftest import ADMIN_PASSWORD, WebEnv, login


@pytest.mark.parametrize("value", ["é", "\u2603" * 40, "ü-forged"])
def test_a_non_ascii_csrf_value_is_refused_with_403(web: WebEnv, value: str) -> None:
    client = web.client()
    client.get("/login")
    refused = client.post("/login", data={"csrf": value, "username": "alice", "password": ADMIN_PASSWORD},
                          follow_redirects=False)
    assert refused.status_code == 403
    login(client, "alice", ADMIN_PASSWORD)
    assert client.post("/logout", data={"csrf": value}, follow_redirects=False).status_code == 403
    hide = client.post("/instances/1/hide", data={"csrf": value, "reason": "x"}, follow_redirects=False)
    assert hide.status_code == 403
    assert web.store.get_instance(1).instance.status == "active"
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in
