"""Assets, DLP profiles (read-only, from the policy) and exports of current findings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from openai_casb.detections import Severity
from openai_casb.dlp.profiles import resolve_custom, resolve_predefined
from openai_casb.exports.formats import MEDIA_TYPES, iter_render
from openai_casb.exports.source import ExportFilters, build_report
from openai_casb.exports.spool import read_chunks, spool
from openai_casb.web.api import schemas
from openai_casb.web.api.convert import StatusFilter, statuses_of
from openai_casb.web.auth import Viewer
from openai_casb.web.context import context_of

router = APIRouter(tags=["assets, DLP and exports"])
ExportFormat = Literal["json", "csv", "ocsf", "sarif", "html", "markdown"]


@router.get("/assets", response_model=schemas.AssetPage)
def list_assets(
    request: Request, _who: Viewer,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> schemas.AssetPage:
    rows, total = context_of(request).queries.assets(kind, q, limit, offset)
    items = [
        schemas.AssetOut(id=a.id, integration_id=a.integration_id, kind=a.kind, external_id=a.external_id,
                         name=a.name, email=a.email, link=a.link, first_seen=a.first_seen, last_seen=a.last_seen,
                         active_instances=count)
        for a, count in rows
    ]
    return schemas.AssetPage(items=items, total=total, limit=limit, offset=offset)


def enabled_profiles(request: Request) -> list[schemas.DlpProfileOut]:
    settings = context_of(request).policy.dlp
    return [
        schemas.DlpProfileOut(name=p.name, predefined=p.predefined, entries=list(p.entries),
                              match_count=p.match_count, confidence=str(p.confidence))
        for p in (*resolve_predefined(settings), *resolve_custom(settings))
    ]


@router.get("/dlp/profiles", response_model=list[schemas.DlpProfileOut])
def list_dlp_profiles(request: Request, _who: Viewer) -> list[schemas.DlpProfileOut]:
    return enabled_profiles(request)


@router.get("/exports/{export_format}", response_class=Response,
            responses={200: {"description": "the export file", "content": {m: {} for _e, m in MEDIA_TYPES.values()}}})
def export_findings(
    request: Request, export_format: ExportFormat, _who: Viewer,
    status: Annotated[list[StatusFilter] | None, Query(description="default: active; `all`: every status")] = None,
    severity_min: Annotated[schemas.SeverityName | None, Query()] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    integration_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    ctx = context_of(request)
    filters = ExportFilters(
        integration_id=integration_id,
        statuses=tuple(str(s) for s in statuses_of(status)),
        severity_min=Severity.parse(severity_min) if severity_min else None,
        finding_type_id=type or None,
    )
    # Spooled whole before the first byte is sent: a plain key found late is still an error
    # response, not half a file; memory holds one instance's text (exports/spool.py).
    spooled = spool(iter_render(build_report(ctx.store, filters, ctx.registry), export_format))
    extension, media_type = MEDIA_TYPES[export_format]
    return StreamingResponse(read_chunks(spooled), media_type=media_type,
                             headers={"Content-Disposition": f'attachment; filename="openai-casb-findings{extension}"'})
