"""The findings store: schema, migrations, repositories and the lifecycle (docs/store.md, docs/lifecycle.md)."""

from openai_casb.store.database import DB_ENV, default_url
from openai_casb.store.records import (
    MUTELIST,
    EventRecord,
    EventType,
    FindingStatus,
    FindingTypeRecord,
    InstanceDetail,
    InstanceStatus,
    InstanceView,
    Integration,
    MuteKey,
    MuteRule,
    MuteRules,
    NotFoundError,
    ScanRecord,
    ScanStatus,
    ScanSummary,
    SecretInDataError,
    StoreError,
)
from openai_casb.store.repository import Store

__all__ = [
    "DB_ENV",
    "MUTELIST",
    "EventRecord",
    "EventType",
    "FindingStatus",
    "FindingTypeRecord",
    "InstanceDetail",
    "InstanceStatus",
    "InstanceView",
    "Integration",
    "MuteKey",
    "MuteRule",
    "MuteRules",
    "NotFoundError",
    "ScanRecord",
    "ScanStatus",
    "ScanSummary",
    "SecretInDataError",
    "Store",
    "StoreError",
    "default_url",
]
