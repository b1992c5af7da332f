"""Dashboard users, API tokens and integration credentials, kept in the store's database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openai_casb.store import NotFoundError, Store, StoreError
from openai_casb.web.keys import (
    DUMMY_PASSWORD_HASH,
    CredentialCipher,
    hash_password,
    new_api_token,
    token_digest,
    verify_password,
)
from openai_casb.web.models import ApiTokenRow, IntegrationCredentialRow, WebUserRow

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD_LENGTH = 12


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise StoreError(f"unknown role {text!r}; expected admin or viewer") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a dashboard user or an API token."""

    name: str
    role: Role
    kind: str  # "user" | "token"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    """Users, tokens and credentials over the store's engine (the tables come from migration 0002_web)."""

    def __init__(self, store: Store) -> None:
        self._sessions = sessionmaker(store.engine, expire_on_commit=False)
        self._writes = sessionmaker(store.engine.execution_options(store_write=True), expire_on_commit=False)

    def _session(self, write: bool = False) -> Session:
        return (self._writes if write else self._sessions)()

    # --- users -------------------------------------------------------------------------------

    def create_user(self, username: str, role: Role, password: str) -> None:
        if not _USERNAME.match(username):
            raise StoreError("usernames are 1-100 letters, digits, '.', '_', '@' or '-', "
                             "starting with a letter or digit")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise StoreError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        row = WebUserRow(username=username, role=str(role), password_hash=hash_password(password), created_at=_now())
        try:
            with self._session(write=True) as session, session.begin():
                session.add(row)
        except IntegrityError:
            raise StoreError(f"user {username!r} already exists") from None

    def authenticate(self, username: str, password: str) -> Principal | None:
        with self._session() as session:
            row = session.scalars(select(WebUserRow).where(WebUserRow.username == username)).first()
        if row is None:
            verify_password(password, DUMMY_PASSWORD_HASH)
            return None
        if not verify_password(password, row.password_hash):
            return None
        return Principal(row.username, Role(row.role), "user")

    def user(self, username: str) -> Principal | None:
        with self._session() as session:
            row = session.scalars(select(WebUserRow).where(WebUserRow.username == username)).first()
        return Principal(row.username, Role(row.role), "user") if row is not None else None

    def list_users(self) -> list[tuple[str, Role, datetime]]:
        with self._session() as session:
            rows = session.scalars(select(WebUserRow).order_by(WebUserRow.username))
            return [(row.username, Role(row.role), row.created_at) for row in rows]

    # --- API tokens --------------------------------------------------------------------------

    def create_token(self, role: Role, name: str | None = None) -> tuple[TokenInfo, str]:
        """A new token; the plain value is returned once and only its SHA-256 is stored."""
        token = new_api_token()
        label = (name or "").strip() or f"{role} token"
        if len(label) > 200:
            raise StoreError("token names have at most 200 characters")
        row = ApiTokenRow(name=label, role=str(role), token_sha256=token_digest(token), prefix=token[:12],
                          created_at=_now())
        with self._session(write=True) as session, session.begin():
            session.add(row)
            session.flush()
            return _token_info(row), token

    def list_tokens(self) -> list[TokenInfo]:
        with self._session() as session:
            return [_token_info(row) for row in session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]

    def revoke_token(self, token_id: int) -> None:
        with self._session(write=True) as session, session.begin():
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no API token with id {token_id}")
            if row.revoked_at is None:
                row.revoked_at = _now()

    def verify_token(self, token: str) -> Principal | None:
        digest = token_digest(token)
        with self._session() as session:
            row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == digest)).first()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(f"token:{row.name}", Role(row.role), "token")

    # --- integration credentials -------------------------------------------------------------

    def save_credentials(self, integration_id: int, cipher: CredentialCipher, document: dict[str, Any]) -> None:
        ciphertext = cipher.encrypt(document)
        with self._session(write=True) as session, session.begin():
            row = session.get(IntegrationCredentialRow, integration_id) or IntegrationCredentialRow(
                integration_id=integration_id
            )
            row.ciphertext, row.updated_at = ciphertext, _now()
            session.add(row)

    def load_credentials(self, integration_id: int, cipher: CredentialCipher) -> dict[str, Any] | None:
        with self._session() as session:
            row = session.get(IntegrationCredentialRow, integration_id)
        return cipher.decrypt(row.ciphertext) if row is not None else None

    def integrations_with_credentials(self) -> set[int]:
        with self._session() as session:
            return set(session.scalars(select(IntegrationCredentialRow.integration_id)))


def _token_info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.name, Role(row.role), row.prefix, row.created_at, row.last_used_at, row.revoked_at)
