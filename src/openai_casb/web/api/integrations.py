"""Integrations: list, create (credentials encrypted at rest), health, and starting scans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import ValidationError

from openai_casb.redaction import redact_key
from openai_casb.store import Integration
from openai_casb.web.api import schemas
from openai_casb.web.api.convert import integration_out, scan_out, sources_of
from openai_casb.web.auth import Admin, Viewer
from openai_casb.web.context import context_of
from openai_casb.web.ids import IntegrationId, ScanId
from openai_casb.web.scan_launcher import settings_from_credentials

router = APIRouter(tags=["integrations and scans"])


@router.get("/integrations", response_model=list[schemas.IntegrationOut])
def list_integrations(request: Request, _who: Viewer) -> list[schemas.IntegrationOut]:
    ctx = context_of(request)
    with_credentials = ctx.accounts.integrations_with_credentials()
    return [integration_out(i, i.id in with_credentials) for i in ctx.store.integrations()]


@router.post("/integrations", response_model=schemas.IntegrationOut, status_code=201)
def create_integration(request: Request, body: schemas.IntegrationCreate, _who: Admin) -> schemas.IntegrationOut:
    ctx = context_of(request)
    document = {
        "admin_key": body.admin_key.get_secret_value(),
        "compliance_key": body.compliance_key.get_secret_value() if body.compliance_key else None,
        "admin_base_url": body.admin_base_url,
        "compliance_base_url": body.compliance_base_url,
        # Shown in listings instead of the keys themselves.
        "admin_key_hint": redact_key(body.admin_key.get_secret_value()),
    }
    probe = Integration(0, body.organization_id, body.workspace_id, body.display_name)
    try:
        settings_from_credentials(probe, document)
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error.get("loc")})
        raise HTTPException(422, f"the connector settings are invalid: check {', '.join(fields)}") from None
    integration = ctx.store.ensure_integration(body.organization_id, body.workspace_id, body.display_name)
    ctx.accounts.save_credentials(integration.id, ctx.cipher, document)
    return integration_out(integration, True)


@router.get("/integrations/health", response_model=list[schemas.IntegrationHealth])
def integrations_health(request: Request, _who: Viewer) -> list[schemas.IntegrationHealth]:
    ctx = context_of(request)
    latest = ctx.queries.latest_scans()
    with_credentials = ctx.accounts.integrations_with_credentials()
    result = []
    for integration in ctx.store.integrations():
        scan = latest.get(integration.id)
        result.append(schemas.IntegrationHealth(
            integration=integration_out(integration, integration.id in with_credentials),
            last_scan_id=scan.id if scan else None, last_scan_status=str(scan.status) if scan else None,
            last_scan_finished_at=scan.finished_at if scan else None,
            sources=sources_of(scan.source_reports) if scan else [],
        ))
    return result


@router.post("/integrations/{integration_id}/scans", response_model=schemas.ScanStarted, status_code=202)
def trigger_scan(request: Request, integration_id: IntegrationId, _who: Admin) -> schemas.ScanStarted:
    ctx = context_of(request)
    integration = ctx.store.get_integration(integration_id)
    credentials = ctx.accounts.load_credentials(integration_id, ctx.cipher)
    if credentials is None and not ctx.queued:  # workers may hold credentials of their own
        raise HTTPException(409, f"integration {integration_id} has no stored credentials; create it through the API")
    return schemas.ScanStarted(scan_id=ctx.launcher(integration, credentials or {}, ctx.progress))


@router.get("/scans", response_model=schemas.ScanPage)
def list_scans(
    request: Request, _who: Viewer,
    integration_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> schemas.ScanPage:
    ctx = context_of(request)
    scans = ctx.store.list_scans(integration_id, limit, offset)
    return schemas.ScanPage(items=[scan_out(s, ctx.scan_progress(s)) for s in scans],
                            total=ctx.queries.count_scans(integration_id), limit=limit, offset=offset)


@router.get("/scans/{scan_id}", response_model=schemas.ScanOut)
def get_scan(request: Request, scan_id: ScanId, _who: Viewer) -> schemas.ScanOut:
    ctx = context_of(request)
    scan = ctx.queries.scan(scan_id)
    if scan is None:
        raise HTTPException(404, f"no scan with id {scan_id}")
    return scan_out(scan, ctx.scan_progress(scan))
