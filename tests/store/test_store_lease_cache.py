"""The lease cache: bounded, each entry used once, one per store."""

from hitl.store import open_store
from hitl.store.lease_cache import LeaseCache


def test_an_entry_is_taken_once():
    cache = LeaseCache()
    cache.put("t", "facts")
    assert cache.take("t") == "facts"
    assert cache.take("t") is None and len(cache) == 0


def test_the_oldest_entries_go_first_when_full():
    cache = LeaseCache(size=2)
    for token in ("a", "b", "c"):
        cache.put(token, token.upper())
    assert len(cache) == 2
    assert (cache.take("a"), cache.take("b"), cache.take("c")) == (None, "B", "C")


def test_each_store_has_its_own_cache(tmp_path):
    first, second = open_store(f"sqlite:///{tmp_path / 'a.db'}"), open_store(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        first.lease_cache.put("token", "facts")
        assert second.lease_cache.take("token") is None
        assert first.lease_cache.take("token") == "facts"
    finally:
        first.close()
        second.close()
