"""Fixed export records for golden tests: hostile names, every lifecycle status, a DLP instance."""

from __future__ import annotations

from datetime import UTC, datetime

from openai_casb.detections import AssetRef, Severity
from openai_casb.exports.model import (
    EventType,
    ExportFinding,
    ExportFindingType,
    ExportInstance,
    ExportIntegration,
    ExportRemediation,
    ExportReport,
    LifecycleEvent,
)
from openai_casb.inventory.model import AssetKind

INTEGRATION = ExportIntegration(id="int-acme", display_name="Acme <Prod> & Co")
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

GPT_ACTIONS = ExportFindingType(
    id="5a2995f5-0cc1-4af3-9045-cdf7e6601f7b",
    name="OpenAI: GPT with Custom Actions enabled",
    severity=Severity.HIGH,
    group="Model and tool governance",
    group_order=1,
    enterprise=True,
    asset_kind=AssetKind.GPT,
    description="A custom GPT calls external APIs through Custom Actions.",
    risk="Conversation content can be sent to third-party servers.",
    remediation=ExportRemediation(
        console_url="https://chatgpt.com/admin/gpts",
        steps=("Open Workspace settings > GPTs.", "Remove the action or restrict the GPT."),
        notes=("Custom GPTs are being retired.",),
    ),
    references=("https://help.openai.com/en/articles/8554397",),
)
ADMIN_KEY_UNUSED = ExportFindingType(
    id="49c75a36-1e64-437b-98a1-e54ec35d0a64",
    name="OpenAI: Unused admin API key",
    severity=Severity.MEDIUM,
    group="API key hygiene",
    group_order=3,
    enterprise=False,
    asset_kind=AssetKind.ADMIN_API_KEY,
    description="An admin API key has not been used for 90 days.",
    risk="An unused admin key is a standing credential with full organization rights.",
    remediation=ExportRemediation(
        console_url="https://platform.openai.com/settings/organization/admin-keys",
        steps=("Delete the key in Admin keys.",),
        api_calls=("DELETE /v1/organization/admin_api_keys/{key_id}",),
    ),
)
STALE_INVITE = ExportFindingType(
    id="18fd5b21-8489-485e-9c93-0bd4a696e724",
    name="OpenAI: Stale pending invite",
    severity=Severity.LOW,
    group="Access security",
    group_order=4,
    enterprise=False,
    asset_kind=AssetKind.INVITE,
    description="An invite has been pending for more than 30 days.",
    risk="Whoever controls the mailbox can still join.",
    remediation=ExportRemediation(
        console_url="https://platform.openai.com/settings/organization/people",
        steps=("Revoke the invite.",),
    ),
)
DLP_CONVERSATION = ExportFindingType(
    id="9aca654d-b331-4052-a5b4-2ceecced8676",
    name="OpenAI: File in ChatGPT Conversation with DLP Profile match",
    severity=Severity.HIGH,
    group="Data Loss Prevention",
    group_order=5,
    enterprise=True,
    asset_kind=AssetKind.CONVERSATION_FILE,
    description="A file uploaded to a ChatGPT conversation matches a DLP profile.",
    risk="Sensitive data left the organization's control.",
    remediation=ExportRemediation(
        console_url="https://chatgpt.com/admin",
        steps=("Ask the uploader to delete the conversation.",),
    ),
)

GPT_INSTANCE = ExportInstance(
    instance_id="inst-gpt-1",
    status="active",
    is_new=True,
    asset=AssetRef(
        kind=AssetKind.GPT,
        id="g-abc123",
        name='<script>alert("x")</script> | *bold*',
        email="owner@acme.example",
        link="https://chatgpt.com/g/g-abc123",
    ),
    evidence={"action_domains": ["api.evil.example"], "visibility": "workspace"},
    first_detected=T1,
    last_detected=T1,
)
KEY_INSTANCE = ExportInstance(
    instance_id="inst-key-1",
    status="hidden",
    hidden_reason="break-glass key, reviewed",
    asset=AssetRef(kind=AssetKind.ADMIN_API_KEY, id="key_abc", name="=HYPERLINK(\"http://x\")"),
    evidence={"redacted_value": "sk-admin...xyz", "last_used_at": None, "created_at": T0},
    first_detected=T0,
    last_detected=T1,
)
INVITE_INSTANCE = ExportInstance(
    instance_id="inst-inv-1",
    status="resolved",
    asset=AssetRef(kind=AssetKind.INVITE, id="invite-1", name=None, email="new.hire@acme.example"),
    evidence={"age_days": 45},
    first_detected=T0,
    last_detected=datetime(2026, 2, 1, tzinfo=UTC),
    resolved_at=T1,
)
DLP_INSTANCE = ExportInstance(
    instance_id="inst-dlp-1",
    status="active",
    asset=AssetRef(
        kind=AssetKind.CONVERSATION_FILE,
        id="file-xyz",
        name="payroll.xlsx",
        email="alice@acme.example",
    ),
    evidence={
        "matched_profiles": ["Financial information"],
        "matches": [{"entry": "Credit card number", "count": 3, "masked_samples": ["****-****-****-1234"]}],
    },
    first_detected=T0,
    last_detected=T1,
)


def sample_report() -> ExportReport:
    findings = (
        ExportFinding(INTEGRATION, STALE_INVITE, Severity.LOW, (INVITE_INSTANCE,)),
        ExportFinding(INTEGRATION, DLP_CONVERSATION, Severity.HIGH, (DLP_INSTANCE,)),
        ExportFinding(INTEGRATION, ADMIN_KEY_UNUSED, Severity.MEDIUM, (KEY_INSTANCE,)),
        ExportFinding(INTEGRATION, GPT_ACTIONS, Severity.HIGH, (GPT_INSTANCE,)),
    )
    return ExportReport(
        generated_at=datetime(2026, 3, 1, 12, 5, tzinfo=UTC),
        catalog_version="1.0.0",
        product_version="0.1.0",
        findings=findings,
        integrations=(INTEGRATION,),
        filters={"status": "all"},
    )


def empty_report() -> ExportReport:
    return ExportReport(generated_at=T1, catalog_version="1.0.0", product_version="0.1.0", findings=())


def sample_events() -> list[LifecycleEvent]:
    def event(
        event_id: str, kind: EventType, at: datetime, instance: ExportInstance, ftype: ExportFindingType
    ) -> LifecycleEvent:
        return LifecycleEvent(
            event_id=event_id,
            event_type=kind,
            event_time=at,
            instance_id=instance.instance_id,
            finding_type_id=ftype.id,
            finding_type_name=ftype.name,
            severity=ftype.severity,
            asset=instance.asset,
            detected_at=instance.first_detected,
            integration=INTEGRATION,
            scan_id="scan-2",
            evidence=instance.evidence,
        )

    return [
        event("ev-2", EventType.HIDDEN, T1, KEY_INSTANCE, ADMIN_KEY_UNUSED),
        event("ev-1", EventType.DETECTED, T0, KEY_INSTANCE, ADMIN_KEY_UNUSED),  # older: sorted first
        event("ev-3", EventType.RESOLVED, T1, INVITE_INSTANCE, STALE_INVITE),
        event("ev-4", EventType.DETECTED, T1, GPT_INSTANCE, GPT_ACTIONS),
        event("ev-5", EventType.DETECTED, T1, DLP_INSTANCE, DLP_CONVERSATION),
    ]
