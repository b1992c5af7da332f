"""Unknown query parameters are refused (422 naming them) instead of silently ignored: a typo such as
`/exports/json?severity=high` (the filter is `severity_min`) would otherwise return everything.

The parameters a route accepts are read from the route's own signature (its dependencies included),
so nothing is listed twice. The checks are dependencies that depend on the caller's authentication
first: anonymous callers still get 401 or the redirect to /login before anything about the query.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from openai_casb.web.accounts import Principal
from openai_casb.web.auth import api_principal
from openai_casb.web.pages.render import page_user
from openai_casb.web.sessions import SessionData

UNKNOWN_MESSAGE = "unknown query parameter"


def _query_names(dependant: Dependant) -> Iterator[str]:
    for field in dependant.query_params:
        yield field.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


_ACCEPTED = "_openai_casb_accepted_query"


def accepted_query(route: APIRoute) -> frozenset[str]:
    """Fixed once a route is built: worked out on its first request and kept on the route (routes
    are not hashable, so no cache can key on them), not walked again on every request."""
    accepted: frozenset[str] | None = route.__dict__.get(_ACCEPTED)
    if accepted is None:
        accepted = frozenset(_query_names(route.dependant))
        setattr(route, _ACCEPTED, accepted)
    return accepted


def known_query(request: Request) -> None:
    """Raises a 422 naming every query parameter the matched route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    accepted = accepted_query(route)
    unknown = sorted({name for name in request.query_params if name not in accepted})
    if unknown:
        raise RequestValidationError([
            {"type": "extra_forbidden", "loc": ("query", name), "msg": UNKNOWN_MESSAGE,
             "input": request.query_params.getlist(name)}
            for name in unknown
        ])


def known_api_query(request: Request, _who: Annotated[Principal, Depends(api_principal)]) -> None:
    known_query(request)


def known_page_query(request: Request,
                     _found: Annotated[tuple[Principal, SessionData], Depends(page_user)]) -> None:
    known_query(request)
