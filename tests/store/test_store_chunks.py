import pytest

from hitl.store.chunks import in_chunks


def test_in_chunks_covers_every_value_once_in_order():
    values = list(range(1201))
    chunks = list(in_chunks(values, size=500))
    assert [len(c) for c in chunks] == [500, 500, 201]
    assert [v for c in chunks for v in c] == values


def test_in_chunks_of_nothing_is_empty_and_size_is_checked():
    assert list(in_chunks([])) == []
    with pytest.raises(ValueError):
        list(in_chunks([1], size=0))
