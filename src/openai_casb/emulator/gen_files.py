"""Files of a generated organization: chat uploads, GPT knowledge files and ChatGPT project files.

What a file holds (type, planted values, expiry) is decided from (seed, index) alone, so the ground
truth is known without building bytes; the bytes are built on download.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from openai_casb.emulator.filegen import FILE_TYPES, build
from openai_casb.emulator.gen_common import GenerateSpec, index_parser, object_rng
from openai_casb.emulator.org import FileStore, PlantedValues, StoredFile
from openai_casb.emulator.sensitive import PLANTED_KINDS, make

STEMS = ("q2_report", "customers", "notes", "export", "invoice", "roadmap", "payroll", "config", "deck", "scan")
FILLER = (
    "Meeting notes from the weekly sync.",
    "Revenue grew in every region this quarter.",
    "Please review the attached figures before Friday.",
    "The onboarding checklist is in the shared drive.",
    "Action items: update the forecast and send it to finance.",
)
GPT_FILE_TYPES = ("pdf", "docx", "txt", "csv")
PROJECT_FILE_TYPES = ("xlsx", "md", "pptx", "json")
_LABELS = {
    "credit_card": "Card number",
    "us_ssn": "SSN",
    "iban": "IBAN",
    "aws_access_key": "AWS access key id",
    "openai_api_key": "OpenAI key",
    "private_key": "Deploy key",
}


@dataclass(frozen=True)
class FilePlan:
    file_id: str
    name: str
    file_type: str
    expired: bool
    planted: PlantedValues
    created_offset: float  # seconds after the owning object's creation


def chat_file_id(index: int) -> str:
    return f"file-Ec{index:010d}"


def gpt_file_id(index: int) -> str:
    return f"file-Eg{index:08d}"


def project_file_id(index: int) -> str:
    return f"file-Ep{index:08d}"


_PARSERS = (
    ("chat", index_parser(r"file-Ec(\d{10})")),
    ("gpt", index_parser(r"file-Eg(\d{8})")),
    ("project", index_parser(r"file-Ep(\d{8})")),
)


class GeneratedFiles(FileStore):
    def __init__(self, spec: GenerateSpec, seed: int) -> None:
        self.spec = spec
        self.seed = seed

    def _plan(self, family: str, index: int, file_id: str, file_type: str, expired: bool, plant: bool) -> FilePlan:
        rng = object_rng(self.seed, f"{family}_file", index)
        planted: PlantedValues = []
        if plant and file_type != "png" and not expired:
            kinds = [k for k in PLANTED_KINDS if not (file_type == "json" and k == "private_key")]
            for kind in rng.sample(kinds, rng.randint(1, 2)):
                planted.append((kind, make(kind, rng)))
        name = f"{STEMS[index % len(STEMS)]}_{index}.{file_type}"
        return FilePlan(file_id, name, file_type, expired, planted, rng.uniform(0, 120))

    def chat_plan(self, index: int) -> FilePlan:
        file_type = FILE_TYPES[index % len(FILE_TYPES)]
        expired = index % 9 == 4  # chat uploads are kept 48 h: some have expired
        return self._plan("chat", index, chat_file_id(index), file_type, expired, index % 5 in (0, 1, 2))

    def gpt_plan(self, gpt: int) -> FilePlan:
        return self._plan("gpt", gpt, gpt_file_id(gpt), GPT_FILE_TYPES[gpt % 4], False, gpt % 2 == 1)

    def project_plan(self, project: int) -> FilePlan:
        return self._plan(
            "project", project, project_file_id(project), PROJECT_FILE_TYPES[project % 4], False, project % 4 == 0
        )

    def plan(self, file_id: str) -> FilePlan | None:
        for family, parse in _PARSERS:
            index = parse(file_id)
            if index is None:
                continue
            if family == "chat" and index < self.spec.files:
                return self.chat_plan(index)
            if family == "gpt" and index < self.spec.gpts and index % 3 == 1:
                return self.gpt_plan(index)
            if family == "project" and index < self.spec.chatgpt_projects and index % 2 == 0:
                return self.project_plan(index)
        return None

    def _content(self, plan: FilePlan) -> bytes:
        rng = object_rng(self.seed, f"text:{plan.file_id}", 0)
        lines = [rng.choice(FILLER) for _ in range(3)]
        for kind, value in plan.planted:
            lines.insert(rng.randint(0, len(lines)), f"{_LABELS[kind]}: {value}")
        return build(plan.file_type, lines)

    def get(self, file_id: str) -> StoredFile | None:
        plan = self.plan(file_id)
        if plan is None:
            return None
        return StoredFile(plan.file_id, plan.name, plan.expired, lambda: self._content(plan), list(plan.planted))

    def _all_plans(self) -> Iterator[FilePlan]:
        yield from (self.chat_plan(i) for i in range(self.spec.files))
        yield from (self.gpt_plan(g) for g in range(1, self.spec.gpts, 3))
        yield from (self.project_plan(p) for p in range(0, self.spec.chatgpt_projects, 2))

    def planted(self) -> Mapping[str, PlantedValues]:
        return {plan.file_id: list(plan.planted) for plan in self._all_plans() if plan.planted}
