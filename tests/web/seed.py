"""A seeded store for the web tests: the real catalog, two scans, realistic detections across all groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openai_casb.checks import default_registry
from openai_casb.detections import AssetRef, Detection
from openai_casb.inventory.model import AssetKind, Source, SourceReport
from openai_casb.store import Integration, Store

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

CUSTOM_ACTIONS = "5a2995f5-0cc1-4af3-9045-cdf7e6601f7b"
GPT_STORE = "c69adfa6-2362-4939-86ec-49ff34093cfd"
PUBLIC_LINK = "de460c9f-55c0-4131-9cdf-e4c3b84f9549"
ADMIN_KEY_NOT_ROTATED = "b72e971d-f5b9-4cf3-96f4-ef82bdf38453"
PROJECT_KEY_UNUSED = "c8fd231b-de51-43cc-8c3f-e1e57114c5f5"
HIGH_PRIVILEGE_INVITE = "776ceb93-fa9a-4ca0-83db-668a67c09936"
INACTIVE_USER = "20ab9ddb-fd48-46a8-9fdf-9bb9b9061f21"
STALE_INVITE = "18fd5b21-8489-485e-9c93-0bd4a696e724"
DLP_CONVERSATION_FILE = "9aca654d-b331-4052-a5b4-2ceecced8676"


@dataclass(frozen=True, slots=True)
class Seeded:
    integration: Integration
    scan_ids: list[int]


def _gpt(type_id: str, gpt_id: str, name: str, owner: str, **evidence: object) -> Detection:
    return Detection(type_id, AssetRef(AssetKind.GPT, gpt_id, name=name, email=owner,
                                       link=f"https://chatgpt.com/g/{gpt_id}"), dict(evidence))


def detections(scan_number: int) -> list[Detection]:
    found = [
        _gpt(CUSTOM_ACTIONS, "g-7Hq2LmN4p", "Deal Desk Assistant", "maria.lopez@acme-corp.com",
             action_domains=["api.salesforce.com"], auth_types=["oauth"]),
        _gpt(CUSTOM_ACTIONS, "g-K9d81Xw0c", "Jira Triage Bot", "dev.patel@acme-corp.com",
             action_domains=["acme.atlassian.net"], auth_types=["api_key"]),
        _gpt(GPT_STORE, "g-Pp03Zr5tY", "Acme Brand Voice", "li.wei@acme-corp.com", visibility="gpt-store"),
        _gpt(PUBLIC_LINK, "g-2bVq8nMfE", "Quarterly Forecast Helper", "sam.okafor@acme-corp.com",
             visibility="anyone-with-link"),
        Detection(ADMIN_KEY_NOT_ROTATED, AssetRef(AssetKind.ADMIN_API_KEY, "key_a1B2c3D4e5F6", name="ci-admin",
                                                  link="https://platform.openai.com/settings/organization/admin-keys"),
                  {"redacted_value": "sk-admin...Zq1", "age_days": 412, "threshold_days": 90}),
        Detection(PROJECT_KEY_UNUSED, AssetRef(AssetKind.PROJECT_API_KEY, "key_9XyZ8wV7u6T5", name="marketing-prod",
                                               metadata={"project_id": "proj_mkt01"}),
                  {"redacted_value": "sk-proj...k3P", "last_used_at": None, "created_days_ago": 200}),
        Detection(HIGH_PRIVILEGE_INVITE, AssetRef(AssetKind.INVITE, "invite-Qm3Yx0", email="contractor@gmail.com"),
                  {"role": "owner", "status": "pending", "invited_days_ago": 12}),
        Detection(STALE_INVITE, AssetRef(AssetKind.INVITE, "invite-Lz8Rt2", email="jordan.kim@acme-corp.com"),
                  {"role": "reader", "status": "pending", "invited_days_ago": 45}),
        Detection(DLP_CONVERSATION_FILE, AssetRef(AssetKind.CONVERSATION_FILE, "file-RgT81mQa", name="payroll_q3.xlsx",
                                                  email="hr.ops@acme-corp.com",
                                                  metadata={"conversation_id": "conv_8812"}),
                  {"profiles": ["Financial Information"], "matches": [{"entry": "Credit Card Number",
                                                                      "count": 14,
                                                                      "masked_samples": ["****-****-****-4242"]}]}),
    ]
    for index, (name, email) in enumerate([("Avery Stone", "avery.stone@acme-corp.com"),
                                           ("Noah Becker", "noah.becker@acme-corp.com"),
                                           ("Priya Raman", "priya.raman@acme-corp.com")]):
        found.append(Detection(INACTIVE_USER, AssetRef(AssetKind.USER, f"user-{index:03d}abc", name=name, email=email),
                               {"last_activity": (T0 - timedelta(days=120 + index * 30)).isoformat(),
                                "inactive_days": 120 + index * 30, "threshold_days": 90}))
    if scan_number < 2:  # new keys every early scan, rotated by the third
        found += [Detection(ADMIN_KEY_NOT_ROTATED, AssetRef(AssetKind.ADMIN_API_KEY, f"key_old{n}{scan_number}",
                                                           name=f"legacy-admin-{n}"),
                            {"redacted_value": "sk-admin...Old", "age_days": 500 + n, "threshold_days": 90})
                  for n in range(3 - scan_number)]
    if scan_number == 0:  # resolved by the second scan
        found.append(_gpt(CUSTOM_ACTIONS, "g-OldRetired1", "Legacy Intake Form", "ex.employee@acme-corp.com",
                          action_domains=["forms.example.com"], auth_types=["none"]))
    return found


def seed(store: Store, scans: int = 4) -> Seeded:
    registry = default_registry()
    store.sync_finding_types(registry.infos())
    integration = store.ensure_integration("org-acme123", "ws-acme456", "Acme Corp")
    type_ids = [check.metadata.id for check in registry]
    scan_ids = []
    for number in range(scans):
        at = T0 + timedelta(days=number)
        scan_id = store.begin_scan(integration.id, started_at=at)
        reports = [SourceReport(source, "complete", pages=2, objects=40) for source in Source]
        store.finish_scan(scan_id, detections=detections(number), evaluated_type_ids=type_ids,
                          complete_type_ids=type_ids, source_reports=reports, finished_at=at + timedelta(minutes=4))
        scan_ids.append(scan_id)
    return Seeded(integration, scan_ids)
