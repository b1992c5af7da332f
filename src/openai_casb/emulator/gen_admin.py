"""The Admin API side of a generated organization."""

from __future__ import annotations

from datetime import UTC, datetime

from openai_casb.emulator.gen_common import (
    DAY,
    GenerateSpec,
    coprime_step,
    index_parser,
    object_rng,
    person,
)
from openai_casb.emulator.org import ProjectMembers
from openai_casb.emulator.sequences import Collection, JsonObject, LazyCollection, ListCollection


class AdminGenerator:
    def __init__(self, spec: GenerateSpec, seed: int, now: float) -> None:
        self.spec = spec
        self.seed = seed
        self.now = int(now)
        self.login_step = coprime_step(max(spec.users, 1))
        self.audit_count = 2 * spec.users + 2 * spec.projects + spec.invites
        self.audit_span = 120 * DAY

    # users ---------------------------------------------------------------------------------
    def user(self, index: int) -> JsonObject:
        rng = object_rng(self.seed, "org_user", index)
        who = person(self.seed, index)
        added_at = self.now - int(rng.uniform(20, 700) * DAY)
        if who.inactive:
            last_used = None if index % 20 == 3 else self.now - int(rng.uniform(100, 300) * DAY)
        else:
            last_used = (self.now - int(rng.uniform(0, 20) * DAY), None, self.now - int(rng.uniform(100, 300) * DAY))[
                index % 3
            ]
        banned = index % 200 == 99
        return {
            "object": "organization.user",
            "id": who.id,
            "name": who.name,
            "email": who.email,
            "role": "owner" if index % 25 == 0 else "reader",
            "added_at": added_at,
            "created": added_at - int(rng.uniform(0, 30) * DAY),
            "is_default": index == 0,
            "is_service_account": False,
            "is_scim_managed": index % 3 == 0,
            "api_key_last_used_at": last_used,
            "user": {
                "object": "user",
                "id": who.id,
                "email": who.email,
                "name": who.name,
                "picture": None,
                "enabled": not who.disabled,
                "banned": banned,
                "banned_at": added_at + int(DAY) if banned else None,
            },
        }

    # invites -------------------------------------------------------------------------------
    def invite(self, index: int) -> JsonObject:
        rng = object_rng(self.seed, "invite", index)
        kind = index % 5
        age_days = (2, 30, 40, 10, 3)[kind] + rng.uniform(0, 1)
        created = self.now - int(age_days * DAY)
        status = ("pending", "pending", "expired", "accepted", "pending")[kind]
        role = "owner" if kind == 4 else "reader"
        projects = []
        if self.spec.projects and index % 6 == 1:
            projects.append({"id": self.project_id(index % self.spec.projects), "role": "owner"})
        elif self.spec.projects and index % 2 == 0:
            projects.append({"id": self.project_id(index % self.spec.projects), "role": "member"})
        return {
            "object": "organization.invite",
            "id": f"invite-E{index:08d}",
            "email": f"new.hire{index}@partner.example.org",
            "role": role,
            "status": status,
            "created_at": created,
            "expires_at": created + int(7 * DAY),
            "accepted_at": created + int(DAY) if status == "accepted" else None,
            "projects": projects,
        }

    # projects ------------------------------------------------------------------------------
    @staticmethod
    def project_id(index: int) -> str:
        return f"proj_E{index:06d}"

    def project(self, index: int) -> JsonObject:
        rng = object_rng(self.seed, "project", index)
        created = self.now - int(rng.uniform(60, 800) * DAY)
        archived = index % 7 == 6
        return {
            "id": self.project_id(index),
            "object": "organization.project",
            "name": "Default project" if index == 0 else f"Project {index}",
            "created_at": created,
            "archived_at": created + int(30 * DAY) if archived else None,
            "status": "archived" if archived else "active",
        }

    def _project_user_indexes(self, project: int) -> list[int]:
        users = self.spec.users
        wanted = min(5, users)
        chosen: list[int] = []
        candidate = project * 31
        while len(chosen) < wanted:
            index = candidate % users
            if index not in chosen:
                chosen.append(index)
            candidate += 97
        return chosen

    def project_members(self, project_id: str) -> ProjectMembers | None:
        project = index_parser(r"proj_E(\d{6})")(project_id)
        if project is None or not 0 <= project < self.spec.projects:
            return None
        created = self.project(project)["created_at"]
        users = []
        for slot, index in enumerate(self._project_user_indexes(project)):
            who = person(self.seed, index)
            users.append(
                {
                    "object": "organization.project.user",
                    "id": who.id,
                    "name": who.name,
                    "email": who.email,
                    "role": "owner" if slot == 0 else "member",
                    "added_at": created + slot * int(DAY),
                }
            )
        accounts = [
            {
                "object": "organization.project.service_account",
                "id": f"svc_acct_E{project:06d}{n:02d}",
                "name": ("Production App", "Nightly batch")[n],
                "role": ("member", "owner")[n],
                "created_at": created + (n + 1) * int(DAY),
            }
            for n in range(2)
        ]
        keys = [self._project_key(project, k, users, accounts) for k in range(self.spec.keys_per_project)]
        return ProjectMembers(ListCollection(users), ListCollection(accounts), ListCollection(keys))

    def _project_key(self, project: int, k: int, users: list[JsonObject], accounts: list[JsonObject]) -> JsonObject:
        rng = object_rng(self.seed, "project_key", project * 10_000 + k)
        created = self.now - int(rng.uniform(10, 400) * DAY)
        age = self.now - created
        last_used = (
            None,
            self.now - int(rng.uniform(0, 5) * DAY),
            self.now - int(min(age, rng.uniform(40, 200) * DAY)),
            self.now - int(rng.uniform(0, 3) * DAY),
        )[k % 4]
        suffix = f"{rng.randrange(36**3):03x}"[-3:]
        owner: JsonObject
        if k % 3 == 2 or not users:
            account = accounts[k % len(accounts)]
            owner = {
                "type": "service_account",
                "service_account": {
                    "id": account["id"],
                    "name": account["name"],
                    "created_at": account["created_at"],
                    "role": account["role"],
                },
            }
            redacted = f"sk-svcacct...{suffix}"
        else:
            user = users[k % len(users)]
            owner = {
                "type": "user",
                "user": {
                    "id": user["id"],
                    "email": user["email"],
                    "name": user["name"],
                    "created_at": user["added_at"],
                    "role": user["role"],
                },
            }
            redacted = f"sk-proj...{suffix}"
        return {
            "object": "organization.project.api_key",
            "redacted_value": redacted,
            "name": f"key {k} of project {project}",
            "created_at": created,
            "last_used_at": last_used,
            "id": f"key_E{project:06d}{k:04d}",
            "owner_project_access": "inactive" if k % 5 == 4 else "active",
            "owner": owner,
        }

    # admin keys ----------------------------------------------------------------------------
    def admin_key(self, index: int) -> JsonObject:
        rng = object_rng(self.seed, "admin_key", index)
        created = self.now - int(rng.uniform(10, 400) * DAY)
        owner = person(self.seed, (index * 25) % max(self.spec.users, 1))
        return {
            "object": "organization.admin_api_key",
            "id": f"key_adminE{index:06d}",
            "name": f"Admin key {index}",
            "redacted_value": f"sk-admin...{rng.randrange(4096):03x}",
            "created_at": created,
            "expires_at": None if index % 2 == 0 else created + int(365 * DAY),
            "last_used_at": None if index % 3 == 1 else self.now - int(rng.uniform(0, 60) * DAY),
            "owner": {
                "type": "user",
                "object": "organization.user",
                "id": owner.id,
                "name": owner.name,
                "created_at": created - int(DAY),
                "role": "owner",
            },
        }

    # audit logs (newest first) -------------------------------------------------------------
    def audit_event(self, index: int) -> JsonObject:
        step = self.audit_span / max(self.audit_count, 1)
        at = self.now - 300 - int(index * step)
        day = datetime.fromtimestamp(at, UTC).strftime("%Y%m%d")
        event: JsonObject = {"id": f"audit_log-E{index:010d}_{day}", "effective_at": at}
        users = max(self.spec.users, 1)
        who = person(self.seed, (index * self.login_step) % users)
        session = {
            "user": {"id": who.id, "email": who.email},
            "ip_address": f"203.0.113.{index % 250 + 1}",
            "user_agent": "Mozilla/5.0",
        }
        if index % 10 == 9 and self.spec.projects:
            project = self.project(index % self.spec.projects)
            event.update(
                {
                    "type": "api_key.created",
                    "project": {"id": project["id"], "name": project["name"]},
                    "actor": {"type": "session", "session": session},
                    "api_key.created": {
                        "id": f"key_E{index % self.spec.projects:06d}0000",
                        "data": {"scopes": ["api.all"]},
                    },
                }
            )
            return event
        recent = self.now - at < 90 * DAY
        failed = index % 13 == 5 or (who.inactive and recent)
        if failed:
            event.update(
                {
                    "type": "login.failed",
                    "actor": {"type": "session", "session": session},
                    "login.failed": {"error_code": "invalid_credentials", "error_message": "Wrong password"},
                }
            )
        else:
            event.update(
                {"type": "login.succeeded", "actor": {"type": "session", "session": session}, "login.succeeded": {}}
            )
        return event

    # collections ---------------------------------------------------------------------------
    def collections(self) -> dict[str, Collection]:
        spec = self.spec
        return {
            "users": LazyCollection(spec.users, self.user, index_parser(r"user-E(\d{23})")),
            "invites": LazyCollection(spec.invites, self.invite, index_parser(r"invite-E(\d{8})")),
            "admin_api_keys": LazyCollection(spec.admin_keys, self.admin_key, index_parser(r"key_adminE(\d{6})")),
            "projects": LazyCollection(spec.projects, self.project, index_parser(r"proj_E(\d{6})")),
            "audit_logs": LazyCollection(
                self.audit_count, self.audit_event, index_parser(r"audit_log-E(\d{10})_\d{8}")
            ),
        }
