"""Dashboard users, API tokens and integration credentials, kept in the store's database."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from openai_casb.store import NotFoundError, Store, StoreError
from openai_casb.web.keys import (
    DUMMY_PASSWORD_HASH,
    CredentialCipher,
    hash_password,
    new_api_token,
    token_digest,
    token_public_part,
    verify_password,
)
from openai_casb.web.models import ApiTokenRow, IntegrationCredentialRow, LoginFailureRow, WebUserRow

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD_LENGTH = 12
# A token's last use is written at most once per this interval (per token, across server processes).
TOKEN_USE_INTERVAL = timedelta(minutes=1)
# Failed-login throttle, per username as typed and client address: after LOGIN_FAILURE_LIMIT failures
# within LOGIN_FAILURE_WINDOW, logins from that address for that username get 429 (the password is not
# even checked) until the oldest of those failures leaves the window. Other addresses are not affected.
LOGIN_FAILURE_LIMIT = 10
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)


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
    # The dashboard user behind the call: the user itself, or the owner of the token (None: a token made
    # by the command line). Tokens created by this principal belong to the same user.
    owner: str | None = None

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


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """The answer to a login attempt: the user and its session generation, or a refusal."""

    principal: Principal | None
    generation: int = 0
    retry_after: int | None = None  # seconds: throttled, the password was not checked


def _now() -> datetime:
    return datetime.now(UTC)


def _lower_role(a: Role, b: Role) -> Role:
    return Role.VIEWER if Role.VIEWER in (a, b) else Role.ADMIN


class Accounts:
    """Users, tokens and credentials over the store's engine (the tables come from migration 0002_web)."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = _now) -> None:
        self._sessions = sessionmaker(store.engine, expire_on_commit=False)
        self._writes = sessionmaker(store.engine.execution_options(store_write=True), expire_on_commit=False)
        self._clock = clock
        self._uses = _TokenUses(self._writes)

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
        found = self._check_password(username, password)
        return found[0] if found is not None else None

    def _check_password(self, username: str, password: str) -> tuple[Principal, int] | None:
        with self._session() as session:
            row = _find_user(session, username)
        if row is None:
            verify_password(password, DUMMY_PASSWORD_HASH)
            return None
        if not verify_password(password, row.password_hash):
            return None
        return _user_principal(row), row.session_generation

    def login(self, username: str, password: str, client: str) -> LoginOutcome:
        """A dashboard login from `client` (the peer address), throttled and logged when it fails
        (username as typed and the address; never the password)."""
        client = client[:100]
        retry_after = self.login_retry_after(username, client)
        if retry_after is not None:
            log.warning("dashboard login for %r from %s refused: %d failed logins within %d minutes; retry in %d s",
                        username, client, LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW // timedelta(minutes=1),
                        retry_after)
            return LoginOutcome(None, retry_after=retry_after)
        found = self._check_password(username, password)
        if found is None:
            self._record_login_failure(username, client)
            log.warning("failed dashboard login for %r from %s", username, client)
            return LoginOutcome(None)
        self._clear_login_failures(username, client)
        log.info("dashboard login of %s from %s", username, client)
        return LoginOutcome(found[0], found[1])

    def login_retry_after(self, username: str, client: str) -> int | None:
        """Seconds until `client` may try `username` again, or None when it is not throttled."""
        now = self._clock()
        with self._session() as session:
            recent = list(session.scalars(
                select(LoginFailureRow.failed_at)
                .where(LoginFailureRow.username == username, LoginFailureRow.client == client[:100],
                       LoginFailureRow.failed_at > now - LOGIN_FAILURE_WINDOW)
                .order_by(LoginFailureRow.failed_at.desc()).limit(LOGIN_FAILURE_LIMIT)
            ))
        if len(recent) < LOGIN_FAILURE_LIMIT:
            return None
        return max(1, math.ceil((recent[-1] + LOGIN_FAILURE_WINDOW - now).total_seconds()))

    def _record_login_failure(self, username: str, client: str) -> None:
        now = self._clock()
        with self._session(write=True) as session, session.begin():
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.failed_at <= now - LOGIN_FAILURE_WINDOW))
            session.add(LoginFailureRow(username=username, client=client, failed_at=now))

    def _clear_login_failures(self, username: str, client: str) -> None:
        with self._session(write=True) as session, session.begin():
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username,
                                                          LoginFailureRow.client == client))

    def session_user(self, username: str, generation: int) -> Principal | None:
        """The user of a session cookie, if the user still exists and the cookie's generation is current."""
        with self._session() as session:
            row = _find_user(session, username)
        if row is None or row.session_generation != generation:
            return None
        return _user_principal(row)

    def end_sessions(self, username: str) -> None:
        """End every session of the user (logout): the cookies issued so far stop working."""
        with self._session(write=True) as session, session.begin():
            session.execute(update(WebUserRow).where(WebUserRow.username == username)
                            .values(session_generation=WebUserRow.session_generation + 1))

    def _user_row(self, session: Session, username: str) -> WebUserRow:
        row = _find_user(session, username)
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return row

    def delete_user(self, username: str) -> int:
        """Delete the user: its sessions end and the API tokens it owns are revoked (returns how many)."""
        with self._session(write=True) as session, session.begin():
            row = self._user_row(session, username)
            revoked = self._revoke_owned(session, username, None)
            session.delete(row)
        log.info("dashboard user %s deleted (%d API tokens revoked) by the command line", username, revoked)
        return revoked

    def set_role(self, username: str, role: Role) -> int:
        """Change the user's role; its sessions end. Demoted to viewer, the admin tokens it owns are
        revoked (returns how many)."""
        with self._session(write=True) as session, session.begin():
            row = self._user_row(session, username)
            revoked = self._revoke_owned(session, username, Role.ADMIN) if role == Role.VIEWER else 0
            if row.role != str(role):
                row.role = str(role)
                row.session_generation += 1
        log.info("dashboard user %s is now %s (%d API tokens revoked) by the command line", username, role, revoked)
        return revoked

    def set_password(self, username: str, password: str) -> None:
        """Replace the user's password; its sessions end."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise StoreError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        password_hash = hash_password(password)
        with self._session(write=True) as session, session.begin():
            row = self._user_row(session, username)
            row.password_hash = password_hash
            row.session_generation += 1
        log.info("password of dashboard user %s changed by the command line", username)

    def _revoke_owned(self, session: Session, owner: str, role: Role | None) -> int:
        query = select(ApiTokenRow.id).where(ApiTokenRow.owner == owner, ApiTokenRow.revoked_at.is_(None))
        if role is not None:
            query = query.where(ApiTokenRow.role == str(role))
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(ApiTokenRow).where(ApiTokenRow.id.in_(ids)).values(revoked_at=_now()))
        return len(ids)

    def list_users(self) -> list[tuple[str, Role, datetime]]:
        with self._session() as session:
            rows = session.scalars(select(WebUserRow).order_by(WebUserRow.username))
            return [(row.username, Role(row.role), row.created_at) for row in rows]

    # --- API tokens --------------------------------------------------------------------------

    def create_token(self, role: Role, name: str | None = None, by: str | None = None,
                     owner: str | None = None) -> tuple[TokenInfo, str]:
        """A new token; the plain value is returned once. Stored: the SHA-256 of the whole token and its
        public part `casb_<8 hex>` (keys.new_api_token), never any of its secret. `by` names who
        asked (the web's principal); the creation is logged, as there is no audit table for accounts.
        `owner` is the dashboard user it belongs to (the asking principal's owner; None: the command line):
        deleting that user revokes it."""
        token = new_api_token()
        label = (name or "").strip() or f"{role} token"
        if len(label) > 200:
            raise StoreError("token names have at most 200 characters")
        row = ApiTokenRow(name=label, role=str(role), token_sha256=token_digest(token),
                          prefix=token_public_part(token),
                          created_at=_now(), owner=owner)
        with self._session(write=True) as session, session.begin():
            session.add(row)
            session.flush()
            info = _token_info(row)
        log.info("API token %d (%s, %r) created by %s", info.id, info.role, info.name, by or "the command line")
        return info, token

    def list_tokens(self) -> list[TokenInfo]:
        with self._session() as session:
            return [_token_info(row) for row in session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]

    def revoke_token(self, token_id: int, by: str | None = None) -> TokenInfo:
        """Revoke a token (again: no change, it keeps its first revocation time) and return it."""
        with self._session(write=True) as session, session.begin():
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no API token with id {token_id}")
            newly = row.revoked_at is None
            if newly:
                row.revoked_at = _now()
            info = _token_info(row)
        if newly:
            log.info("API token %d (%s, %r) revoked by %s", info.id, info.role, info.name, by or "the command line")
        return info

    def verify_token(self, token: str) -> Principal | None:
        """The token's principal, or None. A valid token's `last_used_at` is brought up to date when it is
        older than TOKEN_USE_INTERVAL, by a background write (a request never waits for it)."""
        digest = token_digest(token)
        with self._session() as session:
            found = session.execute(
                select(ApiTokenRow, WebUserRow.role)
                .outerjoin(WebUserRow, WebUserRow.username == ApiTokenRow.owner)
                .where(ApiTokenRow.token_sha256 == digest)
            ).first()
        if found is None:
            return None
        row, owner_role = found
        if row.revoked_at is not None or (row.owner is not None and owner_role is None):
            return None  # revoked, or its owner was deleted
        role = Role(row.role) if owner_role is None else _lower_role(Role(row.role), Role(owner_role))
        now = self._clock()
        if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_INTERVAL:
            self._uses.record(row.id, now)
        return Principal(f"token:{row.name}", role, "token", row.owner)

    def flush_token_uses(self) -> None:
        """Wait for the pending `last_used_at` writes (tests; shutting down)."""
        self._uses.flush()

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


class _TokenUses:
    """Writes tokens' last use on one background thread: at most one pending write per token and none
    within TOKEN_USE_INTERVAL of the last one this process made; the UPDATE is conditional on the stored
    value, so several server processes together also write about once per interval. A failed write
    (e.g. SQLite busy under a scan's long transaction) is only logged: the next use retries."""

    def __init__(self, writes: sessionmaker[Session]) -> None:
        self._writes = writes
        self._lock = threading.Lock()
        self._written: dict[int, datetime] = {}
        self._pending: set[Future[None]] = set()
        self._executor: ThreadPoolExecutor | None = None

    def record(self, token_id: int, now: datetime) -> None:
        with self._lock:
            last = self._written.get(token_id)
            if last is not None and now - last < TOKEN_USE_INTERVAL:
                return
            self._written[token_id] = now
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="token-last-used")
            future = self._executor.submit(self._write, token_id, now)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _write(self, token_id: int, now: datetime) -> None:
        try:
            with self._writes() as session, session.begin():
                session.execute(
                    update(ApiTokenRow)
                    .where(ApiTokenRow.id == token_id,
                           or_(ApiTokenRow.last_used_at.is_(None),
                               ApiTokenRow.last_used_at <= now - TOKEN_USE_INTERVAL))
                    .values(last_used_at=now)
                )
        except SQLAlchemyError as exc:
            log.warning("could not record the use of API token %s: %s", token_id, type(exc).__name__)
            with self._lock:
                if self._written.get(token_id) == now:
                    del self._written[token_id]

    def flush(self) -> None:
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.result()


def _user_principal(row: WebUserRow) -> Principal:
    return Principal(row.username, Role(row.role), "user", row.username)


def _token_info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.name, Role(row.role), row.prefix, row.created_at, row.last_used_at, row.revoked_at)


def _find_user(session: Session, username: str) -> WebUserRow | None:
    return session.scalars(select(WebUserRow).where(WebUserRow.username == username)).first()
