"""`openai-casb tokens` (API tokens), `openai-casb users` (dashboard users) and `openai-casb integrations`
(the stored integration credentials: `rekey` after rotating the installation secret)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from openai_casb.cli.common import EXIT_ERROR, EXIT_USAGE, fail, open_store
from openai_casb.store import Store, StoreError
from openai_casb.web.accounts import Accounts, Role
from openai_casb.web.keys import CredentialCipher, SecretKeyError, load_existing_secret, read_secret_from_file
from openai_casb.web.models import IntegrationCredentialRow

tokens_app = typer.Typer(help="API tokens for the REST API (Authorization: Bearer <token>).", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)
integrations_app = typer.Typer(help="Integration credentials stored through the REST API.", no_args_is_help=True)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite file. Default: $OPENAI_CASB_DB, "
                                                           "else the user data directory.")]
RoleOption = Annotated[str, typer.Option("--role", help="admin (may change things) or viewer (read only).")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _accounts(db: str | None) -> tuple[Store, Accounts]:
    try:
        store = Store.open(db)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    return store, Accounts(store)


@tokens_app.command("create")
def create_token(role: RoleOption, name: Annotated[str | None, typer.Option("--name", help="A label.")] = None,
                 db: DbOption = None) -> None:
    """Create a token and print it once; stored: its SHA-256 and public part casb_<8 hex>, never its secret."""
    store, accounts = _accounts(db)
    with store:
        try:
            info, token = accounts.create_token(Role.parse(role), name)
        except StoreError as exc:
            raise _fail(str(exc)) from None
    typer.echo(token)
    typer.secho(f"token {info.id} ({info.role}, {info.name!r}) created; it is shown only now", err=True)


@tokens_app.command("list")
def list_tokens(db: DbOption = None) -> None:
    """List tokens (their public part, never their secret) and when each last authenticated a request."""
    store, accounts = _accounts(db)
    with store:
        tokens = accounts.list_tokens()
    # Compact enough for 80 columns; the last use is kept to the minute (it is written at most once a minute).
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("id", "name", "role", "prefix", "created", "last used (UTC)", "revoked"):
        table.add_column(column, no_wrap=column != "name", min_width=8 if column == "name" else None)
    for t in tokens:
        table.add_row(str(t.id), t.name, str(t.role), t.prefix + "…", f"{t.created_at:%Y-%m-%d}",
                      f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
                      f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "")
    Console().print(table)


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[int, typer.Argument(help="The id shown by `tokens list`.")],
                 db: DbOption = None) -> None:
    """Revoke a token: it stops working at once."""
    store, accounts = _accounts(db)
    with store:
        try:
            accounts.revoke_token(token_id)
        except StoreError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"token {token_id} revoked")


@users_app.command("create")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: RoleOption,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input "
                                                                           "instead of prompting.")] = False,
    db: DbOption = None,
) -> None:
    """Create a dashboard user (the password is hashed with scrypt)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store, accounts = _accounts(db)
    with store:
        try:
            accounts.create_user(username, Role.parse(role), password)
        except StoreError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"user {username} ({role.strip().lower()}) created")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input "
                                                                       "instead of prompting.")]
UsernameArg = Annotated[str, typer.Argument(help="Login name.")]


@users_app.command("delete")
def delete_user(username: UsernameArg, db: DbOption = None) -> None:
    """Delete a dashboard user: its sessions end and the API tokens it created are revoked."""
    store, accounts = _accounts(db)
    with store:
        try:
            revoked = accounts.delete_user(username)
        except StoreError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"user {username} deleted; {revoked} API token(s) it created revoked")


@users_app.command("set-role")
def set_role(username: UsernameArg, role: RoleOption, db: DbOption = None) -> None:
    """Change a user's role; its sessions end (demoted to viewer, its admin API tokens are revoked)."""
    store, accounts = _accounts(db)
    with store:
        try:
            new_role = Role.parse(role)
            revoked = accounts.set_role(username, new_role)
        except StoreError as exc:
            raise _fail(str(exc)) from None
    suffix = f"; {revoked} admin API token(s) it created revoked" if revoked else ""
    typer.echo(f"user {username} is now {new_role}; its sessions ended{suffix}")


@users_app.command("set-password")
def set_password(username: UsernameArg, password_stdin: PasswordStdin = False, db: DbOption = None) -> None:
    """Set a user's password (e.g. a reset); its sessions end."""
    password = _read_password(password_stdin)
    store, accounts = _accounts(db)
    with store:
        try:
            accounts.set_password(username, password)
        except StoreError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"password of {username} changed; its sessions ended")


@users_app.command("list")
def list_users(db: DbOption = None) -> None:
    """List dashboard users."""
    store, accounts = _accounts(db)
    with store:
        users = accounts.list_users()
    table = Table("username", "role", "created")
    for username, role, created in users:
        table.add_row(username, str(role), created.isoformat(timespec="seconds"))
    Console().print(table)


def _rekey(store: Store, old: CredentialCipher, new: CredentialCipher,
           skip_undecryptable: bool) -> tuple[list[int], list[int], list[int]]:
    """Re-encrypt every stored credential that `old` opens with `new`, in one transaction: the ids
    re-encrypted, already current (`new` opens them) and undecryptable (neither does; left as they are).
    Undecryptable ones without `skip_undecryptable` roll the whole transaction back."""
    rekeyed: list[int] = []
    current: list[int] = []
    undecryptable: list[int] = []
    # store_write: BEGIN IMMEDIATE on SQLite; FOR UPDATE holds the rows on PostgreSQL until the commit.
    # Closing the session without a commit (an exception, or the early return) rolls everything back.
    with Session(store.engine.execution_options(store_write=True)) as session:
        query = select(IntegrationCredentialRow).order_by(IntegrationCredentialRow.integration_id).with_for_update()
        for row in session.scalars(query):
            if new.can_decrypt(row.ciphertext):
                current.append(row.integration_id)
            elif old.can_decrypt(row.ciphertext):
                row.ciphertext = new.reencrypt(row.ciphertext, old)
                rekeyed.append(row.integration_id)
            else:
                undecryptable.append(row.integration_id)
        if undecryptable and not skip_undecryptable:
            return rekeyed, current, undecryptable
        session.commit()
    return rekeyed, current, undecryptable


@integrations_app.command("rekey")
def rekey_integrations(
    old_key_file: Annotated[Path, typer.Option("--old-key-file", help="File holding the previous installation "
                                               "secret (the old key file, or the file the old "
                                               "OPENAI_CASB_SECRET_KEY_FILE named).")],
    skip_undecryptable: Annotated[bool, typer.Option("--skip-undecryptable", help="Re-encrypt the others and exit 0 "
                                                     "when some credential opens with neither key.")] = False,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="The new secret's key file, as given to serve "
                                                  "(default: in the data directory; $OPENAI_CASB_SECRET_KEY "
                                                  "wins).")] = None,
    db: DbOption = None,
) -> None:
    """Re-encrypt stored integration credentials from the old installation secret to the current one.

    All or nothing; a second run is harmless (docs/deployment.md, "Rotating the secret")."""
    try:
        old_secret = read_secret_from_file(old_key_file, "--old-key-file")
        new_secret = load_existing_secret(key_file)
    except SecretKeyError as exc:
        raise fail(str(exc), code=EXIT_USAGE) from None
    if old_secret == new_secret:
        raise fail("--old-key-file holds the current secret; set the new one (OPENAI_CASB_SECRET_KEY, its _FILE, "
                   "or the key file) first", code=EXIT_USAGE)
    old, new = CredentialCipher(old_secret), CredentialCipher(new_secret)
    with open_store(db) as store:
        try:
            rekeyed, current, undecryptable = _rekey(store, old, new, skip_undecryptable)
        except SQLAlchemyError as exc:
            raise fail(f"the database refused the re-encryption, nothing was changed: {type(exc).__name__}: "
                       f"{str(exc).splitlines()[0]}") from None
    committed = skip_undecryptable or not undecryptable
    for integration_id in rekeyed:
        typer.echo(f"integration {integration_id}: {'re-encrypted' if committed else 'would be re-encrypted'}")
    for integration_id in current:
        typer.echo(f"integration {integration_id}: already current")
    for integration_id in undecryptable:
        typer.echo(f"integration {integration_id}: cannot be decrypted with the old key; left untouched")
    if not committed:
        raise fail(f"{len(undecryptable)} credential(s) open with neither key, so nothing was changed; post those "
                   "integrations' keys again, or rerun with --skip-undecryptable to re-encrypt the others",
                   code=EXIT_ERROR)
    summary = f"{len(rekeyed)} re-encrypted, {len(current)} already current"
    if undecryptable:
        summary += f", {len(undecryptable)} left undecryptable (post their keys again)"
    typer.echo(summary)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(users_app, name="users")
    app.add_typer(integrations_app, name="integrations")
