"""Published example values and placeholders, which look like credentials but grant nothing.

A detector of Credentials and Secrets rejects a placeholder outright and reports a published
example at Low confidence only (seen when a profile's confidence is Low, never counted by
default). The lists are kept small on purpose: one frozenset per detector key, each value with
where it is published; anything containing `EXAMPLE` (AWS's documented keys all do) needs none.
"""

from __future__ import annotations

import re

# Microsoft's well-known Azurite / storage emulator account key (account `devstoreaccount1`),
# published in the Azurite README and the "Use the Azurite emulator" docs.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

EXAMPLES: dict[str, frozenset[str]] = {
    # The token the jwt.io debugger shows by default (HS256, "John Doe", secret "your-256-bit-secret").
    "jwt": frozenset({
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }),
    "azure_storage_key": frozenset({AZURITE_KEY}),
    "azure_connection_string": frozenset({AZURITE_KEY}),  # matched on the AccountKey part
    # Slack's API docs (token types, OAuth responses) show this bot token.
    "slack_token": frozenset({"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"}),
    # Stripe's API reference examples (curl -u sk_test_...:); test keys are Low anyway.
    "stripe_test_key": frozenset({"sk_test_4eC39HqLyjWDarjtT1zdp7dc"}),
}

# AWS documents its example keys with this marker (AKIAIOSFODNN7EXAMPLE, ...EXAMPLEKEY); the
# chance of a random key containing it is about 1 in 10^9.
EXAMPLE_MARK = "EXAMPLE"

# Placeholders: a run of one character (`XXXXXXXX`, `T00000000`; 6 in a row happens in about 1
# of 10^7 random keys) or the words of a fill-in instruction (`YOURSECRETKEYGOESHERE`). Angle
# brackets (`<your-key>`) are outside every secret's alphabet, so those never match at all.
_PLACEHOLDER = re.compile(r"(.)\1{5}|(?i:your.{0,40}here)")


def is_placeholder(secret: str) -> bool:
    """`secret` is the variable part of a value (without its fixed prefix such as `sk_live_`)."""
    return _PLACEHOLDER.search(secret) is not None


def is_example(key: str, value: str, secret: str) -> bool:
    known = EXAMPLES.get(key, frozenset())
    return EXAMPLE_MARK in secret or value in known or secret in known
