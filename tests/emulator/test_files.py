"""File endpoints (307 to signed URLs, 410, 404), signed URL expiry, and the generated file bytes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from openai_casb.emulator import Org, generate_org
from openai_casb.emulator.gen_files import GeneratedFiles, chat_file_id
from openai_casb.emulator.sensitive import iban_valid, luhn_valid

from .conftest import NOW, SPEC_TEXT, Api, FakeClock


def conversation_file_ids(org: Org) -> list[tuple[str, str]]:
    out = []
    for conversation in org.conversations:
        for message in conversation["messages"]["data"]:
            out += [(conversation["user_id"], f["id"]) for f in message["files"]["data"]]
    return out


def test_user_file_redirects_to_a_signed_url_that_needs_no_key(api: Api, org: Org) -> None:
    user, file_id = next((u, f) for u, f in conversation_file_ids(org) if not org.files.get(f).expired)  # type: ignore[union-attr]
    response = api.compliance(f"/users/{user}/files/{file_id}")
    assert response.status_code == 307
    target = urlsplit(response.headers["location"])
    assert target.path == f"/_files/{file_id}"
    assert "sig=" in target.query
    download = api.http.get(f"{target.path}?{target.query}")
    assert download.status_code == 200
    assert download.content == org.files.get(file_id).content()  # type: ignore[union-attr]


def test_signed_redirect_expires_after_five_minutes(api: Api, org: Org, clock: FakeClock) -> None:
    user, file_id = next((u, f) for u, f in conversation_file_ids(org) if not org.files.get(f).expired)  # type: ignore[union-attr]
    location = urlsplit(api.compliance(f"/users/{user}/files/{file_id}").headers["location"])
    url = f"{location.path}?{location.query}"
    clock.advance(299)
    assert api.http.get(url).status_code == 200
    clock.advance(2)
    expired = api.http.get(url)
    assert expired.status_code == 403
    assert "expired" in expired.json()["error"]["message"]
    tampered = url.replace("sig=", "sig=0")
    assert api.http.get(tampered).status_code == 403


def test_listed_download_url_lasts_an_hour_and_is_not_rate_limited(
    org: Org, make_api: Callable[..., Api], clock: FakeClock
) -> None:
    api = make_api(org, rate_limit_scale=0.02)  # file endpoints: 2 per minute
    gpt = next(g for g in org.gpts if g["latest_config"]["data"][0]["files"]["data"])
    listed = api.compliance(f"/gpts/{gpt['id']}").json()["latest_config"]["data"][0]["files"]["data"][0]
    url = urlsplit(listed["download_url"])
    path = f"{url.path}?{url.query}"
    assert all(api.http.get(path).status_code == 200 for _ in range(10))
    clock.advance(3599)
    assert api.http.get(path).status_code == 200
    clock.advance(2)
    assert api.http.get(path).status_code == 403


def test_expired_and_unknown_files(api: Api, org: Org) -> None:
    user, expired = next((u, f) for u, f in conversation_file_ids(org) if org.files.get(f).expired)  # type: ignore[union-attr]
    response = api.compliance(f"/users/{user}/files/{expired}")
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "file_expired"
    assert api.compliance(f"/users/{user}/files/file-unknown").status_code == 404
    assert api.compliance("/gpt_files/file-unknown").status_code == 404
    assert api.compliance("/project_files/file-unknown").status_code == 404
    listed = api.compliance("/conversations").json()["data"]
    expired_objects = [
        f for c in listed for m in c["messages"]["data"] for f in m["files"]["data"] if f["id"] == expired
    ]
    assert expired_objects == [
        {
            "object": "compliance.workspace.conversation.message.file",
            "id": expired,
            "name": expired_objects[0]["name"],
            "created_at": None,
            "download_url": None,
        }
    ]


def test_gpt_and_project_file_endpoints(api: Api, org: Org) -> None:
    gpt_file = next(f["id"] for g in org.gpts for f in g["latest_config"]["data"][0]["files"]["data"])
    project_file = next(f["id"] for p in org.chatgpt_projects for f in p["latest_config"]["data"][0]["files"]["data"])
    assert api.compliance(f"/gpt_files/{gpt_file}").status_code == 307
    assert api.compliance(f"/project_files/{project_file}").status_code == 307


def _text_of(file_type: str, content: bytes) -> str:
    if file_type in ("txt", "md", "py", "csv", "tsv"):
        return content.decode()
    if file_type == "json":
        return json.dumps(json.loads(content))
    if file_type == "docx":
        import docx

        return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
    if file_type == "xlsx":
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
    if file_type == "pptx":
        import pptx

        slides = pptx.Presentation(io.BytesIO(content)).slides
        return "\n".join(s.text_frame.text for slide in slides for s in slide.shapes if s.has_text_frame)
    if file_type == "pdf":
        import pypdf

        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    if file_type == "zip":
        outer = zipfile.ZipFile(io.BytesIO(content))
        inner = zipfile.ZipFile(io.BytesIO(outer.read("export/archive.zip")))
        return outer.read("export/data.csv").decode() + "\n" + inner.read("inner/notes.txt").decode()
    raise AssertionError(file_type)


def test_every_file_type_carries_its_planted_values() -> None:
    org = generate_org(SPEC_TEXT.replace("files=40", "files=72"), seed=5, now=NOW)
    planted = org.planted_files()
    seen_types = set()
    for index in range(72):
        stored = org.files.get(chat_file_id(index))
        assert stored is not None
        file_type = stored.name.rsplit(".", 1)[1]
        seen_types.add(file_type)
        if stored.expired:
            assert chat_file_id(index) not in planted
            continue
        content = stored.content()
        if file_type == "png":
            assert content.startswith(b"\x89PNG\r\n\x1a\n")
            continue
        text = _text_of(file_type, content)
        for kind, value in planted.get(chat_file_id(index), []):
            if kind == "private_key":
                assert "-----BEGIN RSA PRIVATE KEY-----" in text
                assert value.splitlines()[1] in text
            else:
                assert value in text, (file_type, kind)
    assert seen_types == {"txt", "csv", "tsv", "json", "md", "py", "docx", "xlsx", "pptx", "pdf", "zip", "png"}
    assert len(planted) < 72  # some files are clean


def test_planted_values_are_valid() -> None:
    org = generate_org("users=5,gpts=30,chatgpt_projects=8,conversations=50,files=300", seed=9, now=NOW)
    values = [pair for pairs in org.planted_files().values() for pair in pairs]
    kinds = {kind for kind, _ in values}
    assert kinds == {"credit_card", "us_ssn", "iban", "aws_access_key", "openai_api_key", "private_key"}
    for kind, value in values:
        if kind == "credit_card":
            assert luhn_valid(value)
        elif kind == "iban":
            assert iban_valid(value)
        elif kind == "us_ssn":
            area, group, serial = value.split("-")
            assert len(area) == 3
            assert area not in ("000", "666")
            assert not area.startswith("9")
            assert group != "00"
            assert serial != "0000"
        elif kind == "aws_access_key":
            assert value.startswith("AKIA")
            assert len(value) == 20
        elif kind == "openai_api_key":
            assert "T3BlbkFJ" in value
            assert value.startswith("sk-proj-")
    assert any(f.startswith("file-Eg") for f in org.planted_files())
    assert any(f.startswith("file-Ep") for f in org.planted_files())


def test_generation_is_deterministic_per_seed() -> None:
    first = generate_org("users=10,conversations=10,files=10", seed=1, now=NOW)
    again = generate_org("users=10,conversations=10,files=10", seed=1, now=NOW)
    other = generate_org("users=10,conversations=10,files=10", seed=2, now=NOW)
    assert list(first.conversations) == list(again.conversations)
    assert first.planted_files() == again.planted_files()
    assert first.files.get(chat_file_id(3)).content() == again.files.get(chat_file_id(3)).content()  # type: ignore[union-attr]
    assert first.planted_files() != other.planted_files()


@pytest.mark.parametrize("bad", ["users=abc", "users", "people=3", "users=-1"])
def test_bad_generate_spec(bad: str) -> None:
    from openai_casb.emulator.gen_common import GenerateSpecError

    with pytest.raises(GenerateSpecError):
        generate_org(bad, seed=1)


def test_generated_files_store_is_lazy() -> None:
    store = GeneratedFiles(generate_org("files=100000,conversations=100000,users=10", seed=1).files.spec, 1)  # type: ignore[attr-defined]
    assert store.get(chat_file_id(99_999)) is not None
    assert store.get(chat_file_id(100_000)) is None
