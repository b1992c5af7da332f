"""Shared fixtures: a small generated org, an in-process client, a movable clock, and the two
OpenAI specs loaded once per session (the platform YAML takes about a second to parse)."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, OAS31Validator
from starlette.testclient import TestClient

from openai_casb.emulator import EmulatorConfig, Org, create_app, generate_org


def _shared_dir() -> Path:
    """The project's shared/ folder (OpenAI's specs, the API notes): beside the repository, as CI lays it out."""
    candidates = [Path(os.environ["OPENAI_CASB_SHARED_DIR"])] if os.environ.get("OPENAI_CASB_SHARED_DIR") else []
    candidates += [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "specs").is_dir():
            return candidate
    raise RuntimeError(f"OpenAI's specs not found in any of {[str(c) for c in candidates]}; set OPENAI_CASB_SHARED_DIR")


SHARED = _shared_dir()
SPECS = SHARED / "specs"
PLATFORM_SPEC = SPECS / "openai-platform-openapi.yaml"
COMPLIANCE_SPEC = SPECS / "chatgpt-compliance-openapi-1.1.5.json"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SPEC_TEXT = (
    "users=30,invites=10,projects=8,keys_per_project=6,admin_keys=5,"
    + "gpts=40,chatgpt_projects=6,conversations=120,files=40"
)
ADMIN_KEY = "sk-admin-test-admin-key-000000000000"
COMPLIANCE_KEY = "sk-proj-test-compliance-key-0000000000"


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def org() -> Org:
    return generate_org(SPEC_TEXT, seed=7, now=NOW)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW.timestamp())


def make_config(clock: FakeClock, **overrides: Any) -> EmulatorConfig:
    settings: dict[str, Any] = {
        "admin_key": ADMIN_KEY,
        "compliance_key": COMPLIANCE_KEY,
        "rate_limit_scale": 1000.0,
        "clock": clock,
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)


@dataclass
class Api:
    """An in-process client with helpers for the two APIs."""

    http: TestClient
    org: Org

    def admin(self, path: str, **params: Any) -> Any:
        return self.http.get(f"/v1/organization{path}", params=params, headers={"Authorization": f"Bearer {ADMIN_KEY}"})

    def compliance(self, path: str, key: str = COMPLIANCE_KEY, **params: Any) -> Any:
        url = f"/v1/compliance/workspaces/{self.org.workspace_id}{path}"
        return self.http.get(url, params=params, headers={"Authorization": f"Bearer {key}"}, follow_redirects=False)


@pytest.fixture
def make_api(clock: FakeClock) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    def build(target: Org, **overrides: Any) -> Api:
        http = TestClient(create_app(target, make_config(clock, **overrides)))
        clients.append(http)
        return Api(http, target)

    yield build
    for http in clients:
        http.close()


@pytest.fixture
def api(org: Org, make_api: Callable[..., Api]) -> Api:
    return make_api(org)


# --- spec validation ----------------------------------------------------------------------


@cache
def platform_spec() -> dict[str, Any]:
    with PLATFORM_SPEC.open() as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=yaml.CSafeLoader)
    return loaded


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [{k: v for k, v in schema.items() if k != "nullable"}, {"enum": [None]}]}


def _allow_null_last_id(node: Any) -> None:
    if isinstance(node, dict):
        last_id = node.get("properties", {}).get("last_id") if isinstance(node.get("properties"), dict) else None
        if isinstance(last_id, dict) and last_id.get("type") == "string":
            last_id["nullable"] = True
        elif isinstance(last_id, dict) and ("$ref" in last_id or "allOf" in last_id):
            node["properties"]["last_id"] = _or_null(last_id)
        for value in node.values():
            _allow_null_last_id(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_last_id(value)


# Known quirks of the Compliance spec (openai-apis.md section 7), applied narrowly: the fields the
# spec marks nullable next to a $ref/allOf/enum (ignored by strict validators) and nulls the real
# API returns that the spec does not mark (documented in docs/emulator.md).
COMPLIANCE_NULLABLE = (
    ("Message", "created_at"),  # nullable next to allOf
    ("Message", "parent_id"),  # null on a conversation's first message
    ("Message", "content"),  # "null for messages generated through unsupported tools"
    ("MessageAuthor", "tool_name"),  # nullable next to enum
    ("GPTConfig", "version_author"),  # nullable next to $ref
    ("BaseFile", "created_at"),  # "If the file has expired, the created_at and download_url will be null"
)


@cache
def compliance_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(COMPLIANCE_SPEC.read_text())
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for name, prop in COMPLIANCE_NULLABLE:
        properties = schemas[name]["properties"]
        properties[prop] = _or_null(properties[prop])
    _allow_null_last_id(spec["components"])
    _allow_null_last_id(spec["paths"])
    return spec


def _response_schema(spec: dict[str, Any], spec_path: str) -> dict[str, Any]:
    response = spec["paths"][spec_path]["get"]["responses"]["200"]
    if "$ref" in response:
        node: Any = spec
        for part in response["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        response = node
    media = next(iter(response["content"].values()))
    schema: dict[str, Any] = media["schema"]
    return schema


@cache
def _validator(api_name: str, spec_path: str) -> Any:
    if api_name == "admin":
        spec = platform_spec()
        return OAS31Validator({**_response_schema(spec, spec_path), "components": spec["components"]})
    spec = compliance_spec()
    return OAS30Validator({**_response_schema(spec, spec_path), "components": spec["components"]})


def assert_valid(api_name: str, spec_path: str, body: Any) -> None:
    """Validate a response body against the 200 schema of `GET spec_path` in OpenAI's spec."""
    _validator(api_name, spec_path).validate(body)


@cache
def component_validator(api_name: str, schema_name: str) -> Any:
    spec = platform_spec() if api_name == "admin" else compliance_spec()
    cls = OAS31Validator if api_name == "admin" else OAS30Validator
    return cls({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]})
