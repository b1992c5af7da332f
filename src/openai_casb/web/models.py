"""The web layer's own tables: dashboard users, API tokens and encrypted integration credentials.

They live in the store's database and metadata (so one `alembic upgrade head` creates them) and are
created by the migration `0002_web`; the store's models never reference them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from openai_casb.store.schema import Base, UtcDateTime


class WebUserRow(Base):
    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Carried in every session cookie and compared on each request; bumped at logout, password or role
    # change, so every cookie issued before stops working at once (migration 0010_web_sessions).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the token: tokens carry 256 random bits, so a plain digest cannot be brute-forced.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's public part `casb_<8 hex>`, shown to tell tokens apart; never any of its secret. Tokens
    # made before migration 0011_token_public_prefix have `casb_` alone (their prefix held secret characters).
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The dashboard user whose session (or whose token) created it; NULL for tokens made by the command
    # line. Deleting the user revokes the token; a token never acts with more rights than its owner.
    owner: Mapped[str | None] = mapped_column(String(100), index=True)


class LoginFailureRow(Base):
    """One failed dashboard login, kept for the throttle window (docs/web.md); never the password."""

    __tablename__ = "web_login_failures"
    __table_args__ = (Index("ix_web_login_failures_who", "username", "client", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))  # as typed (trimmed), whether the user exists or not
    client: Mapped[str] = mapped_column(String(100))  # the peer address
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class IntegrationCredentialRow(Base):
    __tablename__ = "integration_credentials"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    # Fernet token of a JSON document holding the keys and base URLs.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
