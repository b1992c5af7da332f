"""Every table any layer declares (store, web, distributed workers, webhook log) is created by the
migrations exactly as its model says, whatever order the layers happen to be imported in."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from openai_casb.alerts.db_log import metadata as alerts_metadata
from openai_casb.distributed.models import DistributedBase
from openai_casb.store import Store
from openai_casb.store.schema import Base
from openai_casb.web import models as web_models

LAYERS: dict[str, MetaData] = {
    "store and web": Base.metadata,  # the web layer's tables share the store's declarative base
    "distributed": DistributedBase.metadata,
    "alerts": alerts_metadata,
}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_migrations_create_every_table_of_the_layer(layer: str, store: Store) -> None:
    assert web_models  # imported for its tables
    metadata = LAYERS[layer]
    assert metadata.tables, f"{layer} declares no table"

    def only_this_layer(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or (table.name if hasattr(table, "name") else name) in metadata.tables

    def foreign_key_out_of_layer(diff: Any) -> bool:
        # A layer on its own declarative base cannot declare a key into the store's tables; the
        # migration does (the database is stricter than the model), which is not drift.
        return diff[0] == "remove_fk" and diff[1].referred_table.name not in metadata.tables

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": only_this_layer})
        drift = [d for d in compare_metadata(context, metadata) if not foreign_key_out_of_layer(d)]
    assert drift == []
