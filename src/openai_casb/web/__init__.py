"""The web dashboard and REST API (docs/web.md, docs/api.md): `create_app` builds the FastAPI app."""
