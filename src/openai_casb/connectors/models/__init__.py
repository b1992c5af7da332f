"""Tolerant pydantic models of the API objects the scanner reads (unknown fields kept)."""
