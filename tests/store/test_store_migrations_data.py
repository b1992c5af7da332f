"""Migrations that change data, run from the revision before them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from openai_casb.store.database import _MIGRATIONS, create_store_engine, migrate, parse_url


def test_verdicts_cached_before_masked_notes_are_purged(tmp_path: Path) -> None:
    engine = create_store_engine(parse_url(str(tmp_path / "old.db")))
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006_scan_event_cursor")
        connection.execute(text("INSERT INTO dlp_cache (cache_key, verdict, created_at) VALUES "
                                "('k', '{\"notes\": [\"entry AKIAEL35CRPBUJFUPCR4.txt not scanned\"]}', "
                                "'2026-11-01 00:00:00')"))
    assert migrate(engine) is True
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM dlp_cache")).scalar_one() == 0
    engine.dispose()


def test_file_verdicts_naming_no_integration_are_purged_and_content_verdicts_kept(tmp_path: Path) -> None:
    engine = create_store_engine(parse_url(str(tmp_path / "unscoped.db")))
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    content_key = "ab" * 32 + ":digest"
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008_scan_heartbeat")
        for key in ("file:gpt_file:file-E00000001:digest", content_key):
            connection.execute(text("INSERT INTO dlp_cache (cache_key, verdict, created_at) VALUES "
                                    "(:key, '{\"status\": \"scanned\"}', '2026-11-01 00:00:00')"), {"key": key})
    assert migrate(engine) is True
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT cache_key FROM dlp_cache")).scalars().all()
    assert keys == [content_key]
    engine.dispose()
