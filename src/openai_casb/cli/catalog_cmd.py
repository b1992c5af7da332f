"""`openai-casb finding-types`: the catalog of finding types this version reports."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openai_casb.checks import CATALOG_VERSION, CheckRegistry, RegistryError, default_registry


class CatalogFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def catalog_document(registry: CheckRegistry) -> dict[str, Any]:
    """The catalog as plain data, ordered by group, then severity (highest first), then name."""
    return {
        "catalog_version": CATALOG_VERSION,
        "finding_types": [
            {
                "id": meta.id,
                "name": meta.name,
                "severity": meta.severity.label,
                "enterprise": meta.enterprise,
                "group": meta.group.value,
                "group_order": meta.group.order,
                "asset_kind": meta.asset_kind.value,
                "description": meta.description,
                "rule": meta.rule,
                "sources": [s.value for s in meta.sources],
                "optional_sources": [s.value for s in meta.optional_sources],
                "console_url": str(meta.remediation.console_url),
            }
            for meta in (check.metadata for check in registry)
        ],
    }


def _table(document: dict[str, Any]) -> Table:
    table = Table(title=f"openai-casb finding types (catalog {document['catalog_version']})", show_lines=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Name", overflow="fold")
    table.add_column("Severity", no_wrap=True)
    table.add_column("Enterprise", no_wrap=True)
    table.add_column("Group", overflow="fold")
    table.add_column("Description", overflow="fold")
    for item in document["finding_types"]:
        table.add_row(
            item["id"],
            item["name"],
            item["severity"],
            "yes" if item["enterprise"] else "no",
            item["group"],
            item["description"],
        )
    return table


def finding_types(
    output_format: Annotated[
        CatalogFormat, typer.Option("--format", "-f", case_sensitive=False, help="table (default) or json.")
    ] = CatalogFormat.TABLE,
) -> None:
    """List every finding type: ID, name, default severity, Enterprise flag, group, description."""
    try:
        document = catalog_document(default_registry())
    except RegistryError as error:
        typer.echo(f"error: the finding-type catalog is invalid: {error}", err=True)
        raise typer.Exit(code=2) from None
    if output_format is CatalogFormat.JSON:
        typer.echo(json.dumps(document, indent=2))
        return
    Console(soft_wrap=False).print(_table(document))


def register(app: typer.Typer) -> None:
    app.command("finding-types")(finding_types)
