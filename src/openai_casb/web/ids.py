"""Path ids of the REST API and the dashboard, bounded as the database stores them: an id out of
range is a 422 from validation, never an overflow inside the driver (a 500). Every id column the
routes look up (integrations, scans, api_tokens, instances, and events.instance_id) is a 32-bit
INTEGER in the migrations, so every id is bounded to 1..2^31-1."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

INT32_MAX = 2**31 - 1

IntegrationId = Annotated[int, Path(ge=1, le=INT32_MAX)]
ScanId = Annotated[int, Path(ge=1, le=INT32_MAX)]
TokenId = Annotated[int, Path(ge=1, le=INT32_MAX)]
InstanceId = Annotated[int, Path(ge=1, le=INT32_MAX)]
