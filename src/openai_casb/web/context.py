"""What every request handler reaches: the store, accounts, keys and the scan launcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from openai_casb.checks import CheckRegistry, default_registry
from openai_casb.policy import Policy, load_policy
from openai_casb.store import ScanRecord, ScanStatus, Store
from openai_casb.web.accounts import Accounts
from openai_casb.web.keys import CredentialCipher, derive_key
from openai_casb.web.queries import WebQueries
from openai_casb.web.scan_launcher import Progress, ProgressBoard, QueuedLauncher, ScanLauncher


@dataclass
class WebContext:
    store: Store
    secret: bytes = field(repr=False)
    launcher: ScanLauncher
    secure_cookies: bool = True
    session_max_age: int = 12 * 3600
    policy: Policy = field(default_factory=load_policy)
    registry: CheckRegistry = field(default_factory=default_registry)
    progress: ProgressBoard = field(default_factory=ProgressBoard)

    def __post_init__(self) -> None:
        self.accounts = Accounts(self.store)
        self.queries = WebQueries(self.store)
        self.cipher = CredentialCipher(self.secret)
        self.session_key = derive_key(self.secret, "openai-casb session")

    @property
    def queued(self) -> bool:
        """Scans go to workers (distributed mode): they find credentials and record progress themselves."""
        return isinstance(self.launcher, QueuedLauncher)

    def scan_progress(self, scan: ScanRecord) -> Progress | None:
        """Live progress of a scan: from the store in distributed mode (running scans only), else from memory."""
        if isinstance(self.launcher, QueuedLauncher):
            return self.launcher.progress_of(scan.id) if scan.status == ScanStatus.RUNNING else None
        return self.progress.get(scan.id)


def context_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx
