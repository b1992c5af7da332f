"""Finding types, findings and their instances: lists with filters, detail, hide/unhide, ignore, severity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from openai_casb.detections import Severity
from openai_casb.store import FindingStatus
from openai_casb.web.api import schemas
from openai_casb.web.api.convert import (
    StatusFilter,
    finding_out,
    finding_type_out,
    instance_detail_out,
    instance_out,
    severity_name,
    statuses_of,
)
from openai_casb.web.auth import Admin, Viewer
from openai_casb.web.context import context_of
from openai_casb.web.ids import InstanceId, IntegrationId
from openai_casb.web.queries import InstanceQuery

router = APIRouter(tags=["findings"])
TypeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@router.get("/finding-types", response_model=list[schemas.FindingTypeOut])
def list_finding_types(request: Request, _who: Viewer) -> list[schemas.FindingTypeOut]:
    return [finding_type_out(check.metadata) for check in context_of(request).registry]


def _setting(request: Request, integration_id: int, type_id: str) -> schemas.FindingSettingOut:
    status, override = context_of(request).store.finding_settings(integration_id).get(
        type_id, (FindingStatus.ACTIVE, None))
    return schemas.FindingSettingOut(integration_id=integration_id, finding_type_id=type_id,
                                     ignored=status == FindingStatus.IGNORED,
                                     severity_override=severity_name(override) if override is not None else None)


@router.post("/integrations/{integration_id}/finding-types/{type_id}/ignore",
             response_model=schemas.FindingSettingOut)
def ignore_finding_type(request: Request, integration_id: IntegrationId, type_id: TypeId,
                        _who: Admin) -> schemas.FindingSettingOut:
    context_of(request).store.ignore_type(integration_id, type_id)
    return _setting(request, integration_id, type_id)


@router.delete("/integrations/{integration_id}/finding-types/{type_id}/ignore",
               response_model=schemas.FindingSettingOut)
def unignore_finding_type(request: Request, integration_id: IntegrationId, type_id: TypeId,
                          _who: Admin) -> schemas.FindingSettingOut:
    context_of(request).store.unignore_type(integration_id, type_id)
    return _setting(request, integration_id, type_id)


@router.put("/integrations/{integration_id}/finding-types/{type_id}/severity",
            response_model=schemas.FindingSettingOut)
def override_severity(request: Request, integration_id: IntegrationId, type_id: TypeId,
                      body: schemas.SeverityOverride, _who: Admin) -> schemas.FindingSettingOut:
    level = Severity.parse(body.severity) if body.severity is not None else None
    context_of(request).store.override_severity(integration_id, type_id, level)
    return _setting(request, integration_id, type_id)


@router.get("/findings", response_model=list[schemas.FindingOut])
def list_findings(
    request: Request, _who: Viewer,
    integration_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    ignored: Annotated[bool | None, Query(description="only ignored (true) or only not ignored (false)")] = None,
    group: Annotated[str | None, Query(max_length=200)] = None,
) -> list[schemas.FindingOut]:
    status = None if ignored is None else (FindingStatus.IGNORED if ignored else FindingStatus.ACTIVE)
    return [finding_out(s) for s in context_of(request).queries.findings(integration_id, status, group)]


@router.get("/instances", response_model=schemas.InstancePage)
def list_instances(
    request: Request, _who: Viewer,
    status: Annotated[list[StatusFilter] | None, Query(description="default: active; `all`: every status")] = None,
    severity: Annotated[list[schemas.SeverityName] | None, Query()] = None,
    type: Annotated[str | None, Query(max_length=64, description="finding type id")] = None,
    integration_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    group: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200, description="search asset name, email, id, type")] = None,
    ignored: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> schemas.InstancePage:
    query = InstanceQuery(
        statuses=statuses_of(status),
        severities=tuple(Severity.parse(s) for s in severity or ()),
        finding_type_id=type or None, integration_id=integration_id, group=group or None, search=q,
        finding_status=None if ignored is None else (FindingStatus.IGNORED if ignored else FindingStatus.ACTIVE),
    )
    rows, total = context_of(request).queries.instances(query, limit, offset)
    return schemas.InstancePage(items=[instance_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/instances/{instance_id}", response_model=schemas.InstanceDetailOut)
def get_instance(request: Request, instance_id: InstanceId, _who: Viewer) -> schemas.InstanceDetailOut:
    return instance_detail_out(context_of(request).store.get_instance(instance_id))


@router.post("/instances/{instance_id}/hide", response_model=schemas.InstanceDetailOut)
def hide_instance(request: Request, instance_id: InstanceId, body: schemas.HideRequest,
                  who: Admin) -> schemas.InstanceDetailOut:
    store = context_of(request).store
    store.hide(instance_id, body.reason, who.name, body.until)
    return instance_detail_out(store.get_instance(instance_id))


@router.post("/instances/{instance_id}/unhide", response_model=schemas.InstanceDetailOut)
def unhide_instance(request: Request, instance_id: InstanceId, who: Admin) -> schemas.InstanceDetailOut:
    store = context_of(request).store
    store.unhide(instance_id, who.name)
    return instance_detail_out(store.get_instance(instance_id))


