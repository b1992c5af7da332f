"""The export formats by name, for the CLI and the web API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from openai_casb.exports.csv_export import render_csv
from openai_casb.exports.html import render_html
from openai_casb.exports.json_export import render_json
from openai_casb.exports.markdown import render_markdown
from openai_casb.exports.model import ExportReport
from openai_casb.exports.ocsf import render_ocsf
from openai_casb.exports.sarif import render_sarif

Renderer = Callable[[ExportReport], str]

RENDERERS: Final[dict[str, Renderer]] = {
    "json": render_json,
    "csv": render_csv,
    "ocsf": render_ocsf,
    "sarif": render_sarif,
    "html": render_html,
    "markdown": render_markdown,
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


def render(report: ExportReport, format_name: str) -> str:
    try:
        renderer = RENDERERS[format_name]
    except KeyError:
        raise ValueError(f"unknown export format {format_name!r}; expected one of {', '.join(RENDERERS)}") from None
    return renderer(report)
