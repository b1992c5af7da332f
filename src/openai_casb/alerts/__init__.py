"""Signed webhooks sent on finding lifecycle changes."""
