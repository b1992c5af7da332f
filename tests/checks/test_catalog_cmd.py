import json

from typer.testing import CliRunner

from openai_casb.checks import CATALOG_VERSION, default_registry
from openai_casb.cli.app import app

runner = CliRunner()


def test_json_catalog_is_ordered_and_versioned() -> None:
    result = runner.invoke(app, ["finding-types", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["catalog_version"] == CATALOG_VERSION
    items = document["finding_types"]
    assert [item["id"] for item in items] == [check.id for check in default_registry()]
    keys = [
        (item["group_order"], -["Info", "Low", "Medium", "High", "Critical"].index(item["severity"])) for item in items
    ]
    assert keys == sorted(keys)
    assert items[0]["name"] == "OpenAI: GPT with Custom Actions enabled"
    assert items[0]["enterprise"] is True
    assert items[0]["group"] == "Model and tool governance"


def test_table_shows_version_and_every_type() -> None:
    result = runner.invoke(app, ["finding-types"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert f"catalog {CATALOG_VERSION}" in result.output
    for check in default_registry():
        assert check.id in result.output
        assert check.metadata.name in result.output


def test_unknown_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["finding-types", "--format", "xml"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
