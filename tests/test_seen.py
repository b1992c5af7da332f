"""The crawl's disk-backed id set: exact membership, counted once, private and gone when closed."""

from __future__ import annotations

from openai_casb.seen import SeenIds


def test_each_id_is_new_once() -> None:
    seen = SeenIds()
    assert seen.add("conv-1")
    assert seen.add("conv-2")
    assert not seen.add("conv-1")
    assert len(seen) == 2
    seen.close()


def test_many_ids_are_told_apart() -> None:
    seen = SeenIds()
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(50_000)]
    assert all(seen.add(i) for i in ids)
    assert not any(seen.add(i) for i in ids[::97])
    assert len(seen) == 50_000
    seen.close()


def test_sets_are_independent() -> None:
    files, events = SeenIds(), SeenIds()
    assert files.add("x")
    assert events.add("x")
    files.close()
    events.close()
