"""Path ids of the REST API and the dashboard, bounded as the database stores them: an id out of
range is a 422 from validation, never an overflow inside the driver (a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

IntegrationId = Annotated[int, Path(ge=1, le=INT32_MAX)]
ScanId = Annotated[int, Path(ge=1, le=INT32_MAX)]
TokenId = Annotated[int, Path(ge=1, le=INT32_MAX)]
InstanceId = Annotated[int, Path(ge=1, le=INT64_MAX)]
