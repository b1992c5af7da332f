"""The export formats by name, for the CLI and the web API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from openai_casb.exports.csv_export import iter_csv, render_csv
from openai_casb.exports.html import render_html
from openai_casb.exports.json_export import iter_json, render_json
from openai_casb.exports.markdown import render_markdown
from openai_casb.exports.model import ExportReport
from openai_casb.exports.ocsf import iter_ocsf, render_ocsf
from openai_casb.exports.sarif import iter_sarif, render_sarif

Renderer = Callable[[ExportReport], str]

RENDERERS: Final[dict[str, Renderer]] = {
    "json": render_json,
    "csv": render_csv,
    "ocsf": render_ocsf,
    "sarif": render_sarif,
    "html": render_html,
    "markdown": render_markdown,
}

# The machine-readable formats, one instance at a time (`exports.stream`): what a large store
# exports through. HTML and Markdown are reports for people and come whole.
STREAMERS: Final[dict[str, Callable[[ExportReport], Iterator[str]]]] = {
    "json": iter_json,
    "csv": iter_csv,
    "ocsf": iter_ocsf,
    "sarif": iter_sarif,
}

# File extension and media type per format, for downloads.
MEDIA_TYPES: Final[dict[str, tuple[str, str]]] = {
    "json": (".json", "application/json"),
    "csv": (".csv", "text/csv"),
    "ocsf": (".ocsf.json", "application/json"),
    "sarif": (".sarif", "application/sarif+json"),
    "html": (".html", "text/html"),
    "markdown": (".md", "text/markdown"),
}


def _check(format_name: str) -> None:
    if format_name not in RENDERERS:
        raise ValueError(f"unknown export format {format_name!r}; expected one of {', '.join(RENDERERS)}")


def render(report: ExportReport, format_name: str) -> str:
    _check(format_name)
    return RENDERERS[format_name](report)


def iter_render(report: ExportReport, format_name: str) -> Iterator[str]:
    """The export in chunks whose concatenation is `render(report, format_name)`.

    Write them as they come (a file, a streaming HTTP response) to keep memory to one instance's
    text beyond the report's records. A chunk holding a plain key raises `PlainSecretError` when
    it is reached, so a consumer writing to a file must discard a partial one on that error.
    """
    _check(format_name)
    streamer = STREAMERS.get(format_name)
    if streamer is None:
        return iter((RENDERERS[format_name](report),))
    return streamer(report)
