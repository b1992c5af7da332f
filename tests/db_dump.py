"""Every row of every table of a database as text: what leak tests search for planted values."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text


def database_text(url: str) -> str:
    engine = create_engine(url)
    chunks: list[str] = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(repr(tuple(row)))
    engine.dispose()
    return "\n".join(chunks)
