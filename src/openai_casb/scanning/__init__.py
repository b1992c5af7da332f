"""Scanning: the one place that runs connectors -> inventory -> checks and DLP -> store."""

from openai_casb.scanning.run import ScanProgress, ScanRequest, ScanResult, run_scan

__all__ = ["ScanProgress", "ScanRequest", "ScanResult", "run_scan"]
