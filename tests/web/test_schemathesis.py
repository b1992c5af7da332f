"""Property-based tests of the REST API from its own OpenAPI document (schemathesis): with an admin token,
no generated input makes the server answer 5xx, and every response matches its documented schema.

The app is built at import time because schemathesis parametrizes tests at collection.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from seed import seed

from conftest import SECRET, FakeLauncher
from openai_casb.store import Store
from openai_casb.web.accounts import Role
from openai_casb.web.app import create_app
from openai_casb.web.context import WebContext

_directory = Path(tempfile.mkdtemp(prefix="casb-schemathesis-"))
atexit.register(shutil.rmtree, _directory, ignore_errors=True)
_store = Store.open(f"sqlite:///{_directory / 'web.db'}")
seed(_store, scans=2)
_launcher = FakeLauncher(_store)
_launcher.release.set()  # scans started by generated requests finish at once
_ctx = WebContext(store=_store, secret=SECRET, launcher=_launcher, secure_cookies=False)
_ctx.accounts.save_credentials(1, _ctx.cipher, {"admin_key": "sk-admin-" + "x" * 24})
ADMIN = {"Authorization": f"Bearer {_ctx.accounts.create_token(Role.ADMIN, 'schemathesis')[1]}"}
atexit.register(_store.close)

schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(_ctx), headers=ADMIN)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_responses(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=ADMIN, checks=[not_a_server_error, response_schema_conformance])
