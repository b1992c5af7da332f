"""Dashboard pages (GET): overview, findings, finding and instance detail, hidden, ignored, assets, DLP,
scans and integrations. Every page needs a session; forms on them carry the CSRF token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from openai_casb.detections import Severity
from openai_casb.store import FindingStatus, InstanceStatus, StoreError
from openai_casb.web.api.convert import finding_type_out, scan_out
from openai_casb.web.api.inventory import enabled_profiles
from openai_casb.web.context import context_of
from openai_casb.web.ids import INT32_MAX, InstanceId, IntegrationId, ScanId
from openai_casb.web.pages.charts import trend_chart
from openai_casb.web.pages.render import PageUser, render
from openai_casb.web.queries import InstanceQuery

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
DLP_GROUP = "Data Loss Prevention"
Text = Annotated[str | None, Query(max_length=200)]


def _page_number(page: int) -> int:
    return max(1, min(page, 10**6))


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, _user: PageUser) -> HTMLResponse:
    ctx = context_of(request)
    summary = ctx.queries.overview()
    scans = list(reversed(ctx.store.list_scans(limit=30)))
    newest, _shown = ctx.queries.instances(InstanceQuery(finding_status=FindingStatus.ACTIVE), 10, 0,
                                          with_total=False)
    return render(request, "overview.html", summary=summary,
                  trend=trend_chart(scans), newest=newest, last_scan=scans[-1] if scans else None)


def _instance_list(request: Request, template: str, title: str, statuses: tuple[InstanceStatus, ...],
                   severity: list[str], type_id: str | None, group: str | None, integration: int | None,
                   q: str | None, page: int, **extra: Any) -> HTMLResponse:
    ctx = context_of(request)
    try:
        severities = tuple(Severity.parse(s) for s in severity if s)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    query = InstanceQuery(statuses=statuses, severities=severities, finding_type_id=type_id or None,
                          integration_id=integration, group=group or None, search=q)
    page = _page_number(page)
    rows, total = ctx.queries.instances(query, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    filters: dict[str, Any] = {"severity": [], "type": "", "group": "", "integration": "", "q": q or "", "status": []}
    if extra.get("base") == "/findings":  # /hidden and /dlp fix these and take only `q` (and `page`)
        filters.update({"severity": [s.label.lower() for s in severities], "type": type_id or "",
                        "group": group or "", "integration": integration or "", "status": [str(s) for s in statuses]})
    return render(request, template, title=title, rows=rows, total=total, page=page, pages=pages, filters=filters,
                  groups=ctx.queries.groups(), types=ctx.store.finding_types(),
                  integrations=ctx.store.integrations(), **extra)


@router.get("/findings", response_class=HTMLResponse)
def findings(request: Request, _user: PageUser, severity: Annotated[list[str], Query()] = [],  # noqa: B006
             type: Text = None, group: Text = None,
             integration: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
             status: Annotated[list[InstanceStatus], Query()] = [],  # noqa: B006
             q: Text = None, page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    statuses = tuple(status) or (InstanceStatus.ACTIVE,)
    return _instance_list(request, "findings.html", "Findings", statuses, severity, type, group, integration, q,
                          page, base="/findings")


@router.get("/hidden", response_class=HTMLResponse)
def hidden(request: Request, _user: PageUser, q: Text = None, page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    return _instance_list(request, "findings.html", "Hidden instances", (InstanceStatus.HIDDEN,), [], None, None,
                          None, q, page, base="/hidden")


@router.get("/dlp", response_class=HTMLResponse)
def dlp(request: Request, _user: PageUser, q: Text = None, page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    return _instance_list(request, "dlp.html", "DLP results", (InstanceStatus.ACTIVE,), [], None, DLP_GROUP, None, q,
                          page, base="/dlp", profiles=enabled_profiles(request))


@router.get("/findings/{integration_id}/{type_id}", response_class=HTMLResponse)
def finding_detail(request: Request, _user: PageUser, integration_id: IntegrationId, type_id: str,
                   page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    ctx = context_of(request)
    check = ctx.registry.resolve(type_id)
    if check is None:
        raise HTTPException(404, f"unknown finding type {type_id!r}")
    try:
        integration = ctx.store.get_integration(integration_id)
    except StoreError as exc:
        raise HTTPException(404, str(exc)) from None
    status, override = ctx.store.finding_settings(integration_id).get(type_id, (FindingStatus.ACTIVE, None))
    query = InstanceQuery(statuses=(InstanceStatus.ACTIVE, InstanceStatus.HIDDEN), finding_type_id=type_id,
                          integration_id=integration_id)
    page = _page_number(page)
    rows, total = ctx.queries.instances(query, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(request, "finding.html", meta=finding_type_out(check.metadata), integration=integration,
                  ignored=status == FindingStatus.IGNORED, override=override, rows=rows, total=total, page=page,
                  pages=max(1, -(-total // PAGE_SIZE)))


@router.get("/instances/{instance_id}", response_class=HTMLResponse)
def instance_detail(request: Request, _user: PageUser, instance_id: InstanceId) -> HTMLResponse:
    ctx = context_of(request)
    try:
        detail = ctx.store.get_instance(instance_id)
    except StoreError as exc:
        raise HTTPException(404, str(exc)) from None
    check = ctx.registry.resolve(detail.instance.finding_type_id)
    return render(request, "instance.html", detail=detail, view=detail.instance,
                  meta=finding_type_out(check.metadata) if check else None)


@router.get("/ignored", response_class=HTMLResponse)
def ignored(request: Request, _user: PageUser) -> HTMLResponse:
    rows = context_of(request).queries.findings(finding_status=FindingStatus.IGNORED)
    return render(request, "ignored.html", rows=rows)


@router.get("/assets", response_class=HTMLResponse)
def assets(request: Request, _user: PageUser, kind: Text = None, q: Text = None,
           page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    ctx = context_of(request)
    page = _page_number(page)
    rows, total = ctx.queries.assets(kind or None, q, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(request, "assets.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                  kinds=ctx.queries.asset_kinds(), filters={"kind": kind or "", "q": q or ""})


@router.get("/scans", response_class=HTMLResponse)
def scans(request: Request, _user: PageUser, page: Annotated[int, Query(ge=1)] = 1,
          started: Annotated[int | None, Query(ge=1, le=INT32_MAX, description="set by the redirect after a "
                                               "scan starts")] = None) -> HTMLResponse:
    ctx = context_of(request)
    page = _page_number(page)
    records = ctx.store.list_scans(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    total = ctx.queries.count_scans(None)
    return render(request, "scans.html", scans=records, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                  integrations=ctx.store.integrations(), progress={s.id: ctx.scan_progress(s) for s in records})


@router.get("/scans/{scan_id}/progress.json", response_class=JSONResponse)
def scan_progress(request: Request, _user: PageUser, scan_id: ScanId) -> JSONResponse:
    ctx = context_of(request)
    scan = ctx.queries.scan(scan_id)
    if scan is None:
        raise HTTPException(404, f"no scan with id {scan_id}")
    return JSONResponse(scan_out(scan, ctx.scan_progress(scan)).model_dump(mode="json"))


@router.get("/integrations", response_class=HTMLResponse)
def integrations(request: Request, _user: PageUser) -> HTMLResponse:
    ctx = context_of(request)
    latest = ctx.queries.latest_scans()
    rows = [(i, latest.get(i.id)) for i in ctx.store.integrations()]
    stored = ctx.accounts.integrations_with_credentials()
    return render(request, "integrations.html", rows=rows, with_credentials=stored)
