"""openai-casb: a self-hosted, read-only CASB for OpenAI organizations and ChatGPT Enterprise workspaces."""

__version__ = "0.1.0"
