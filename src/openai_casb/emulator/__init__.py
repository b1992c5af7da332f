"""Emulator of the OpenAI Admin API and the ChatGPT Enterprise Compliance API (read-only, GET only).

Shares no code with `openai_casb.connectors` or `openai_casb.inventory`, so the emulator and the
client can never drift from OpenAI's specs together.
"""

from openai_casb.emulator.app import create_app
from openai_casb.emulator.config import FAULT_KINDS, ConfigError, EmulatorConfig
from openai_casb.emulator.generate import GenerateSpec, generate_org
from openai_casb.emulator.org import Org, StoredFile
from openai_casb.emulator.server import RunningEmulator, running_emulator
from openai_casb.emulator.snapshot import SnapshotError, load_snapshot, org_from_dict

__all__ = [
    "FAULT_KINDS",
    "ConfigError",
    "EmulatorConfig",
    "GenerateSpec",
    "Org",
    "RunningEmulator",
    "SnapshotError",
    "StoredFile",
    "create_app",
    "generate_org",
    "load_snapshot",
    "org_from_dict",
    "running_emulator",
]
