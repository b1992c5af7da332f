"""`python -m openai_casb.cli` runs the `openai-casb` command."""

from openai_casb.cli.app import main

main()
