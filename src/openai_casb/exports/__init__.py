"""Exports of current findings (JSON, CSV, OCSF, SARIF, HTML, Markdown) and the lifecycle event stream."""
