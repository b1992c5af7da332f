"""`generate_org`: a realistic synthetic organization, computed lazily from (seed, kind, index)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from openai_casb.emulator.gen_admin import AdminGenerator
from openai_casb.emulator.gen_common import GenerateSpec, GenerateSpecError
from openai_casb.emulator.gen_compliance import ComplianceGenerator
from openai_casb.emulator.gen_files import GeneratedFiles
from openai_casb.emulator.org import Org

__all__ = ["GenerateSpec", "GenerateSpecError", "generate_org"]


def generate_org(spec: GenerateSpec | str, seed: int, now: datetime | None = None) -> Org:
    """A synthetic org; ages (keys 10-400 days old, logins, conversations) are relative to `now`."""
    parsed = GenerateSpec.parse(spec) if isinstance(spec, str) else spec
    parsed.validate()
    moment = (now or datetime.now().astimezone()).timestamp()
    digest = hashlib.sha256(f"openai-casb-emulator:{seed}".encode()).digest()
    workspace_id = str(uuid.UUID(bytes=digest[:16], version=4))
    files = GeneratedFiles(parsed, seed)
    admin = AdminGenerator(parsed, seed, moment)
    compliance = ComplianceGenerator(parsed, seed, moment, workspace_id, files)
    admin_collections = admin.collections()
    compliance_collections = compliance.collections()
    return Org(
        organization_id=f"org-E{digest[16:28].hex()}",
        organization_name=f"Generated organization {seed}",
        workspace_id=workspace_id,
        users=admin_collections["users"],
        invites=admin_collections["invites"],
        admin_api_keys=admin_collections["admin_api_keys"],
        projects=admin_collections["projects"],
        project_members=admin.project_members,
        audit_logs=admin_collections["audit_logs"],
        compliance_users=compliance_collections["compliance_users"],
        gpts=compliance_collections["gpts"],
        chatgpt_projects=compliance_collections["chatgpt_projects"],
        conversations=compliance_collections["conversations"],
        conversation_update_time=compliance.update_time,
        conversation_user=compliance.conversation_user,
        conversation_message_times=compliance.message_times,
        files=files,
    )
