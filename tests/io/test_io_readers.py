"""Reading import files: JSONL (plain, gzipped, arrays), CSV line numbers, Parquet, saved HF datasets, hub ids."""

import gzip
import json
import subprocess
import sys

import pytest
from io_helpers import write_csv, write_jsonl

from hitl.errors import InvalidInput
from hitl.io.readers import position, read_records


def test_jsonl_numbers_lines_and_skips_blank_ones(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert list(read_records(path)) == [(1, {"a": 1}), (3, {"a": 2})]


def test_malformed_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.jsonl, line 3: not valid JSON"):
        list(read_records(path))


def test_non_object_line_is_refused(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 2: expected a JSON object"):
        list(read_records(path))


def test_gzipped_jsonl_and_json_array(tmp_path):
    gz = tmp_path / "p.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write('{"prompt": "x"}\n{"prompt": "y"}\n')
    assert [r["prompt"] for _, r in read_records(gz)] == ["x", "y"]
    arr = tmp_path / "p.json"
    arr.write_text(json.dumps([{"prompt": "x"}, {"prompt": "y"}]), encoding="utf-8")
    assert list(read_records(arr)) == [(1, {"prompt": "x"}), (2, {"prompt": "y"})]


def test_csv_counts_the_header_as_line_one_and_multiline_cells(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        ["id", "prompt", "tags"],
        [["a", "one", "x,y"], ["b", "two\nlines", ""], ["c", "3", '["t"]']],
    )
    got = list(read_records(path))
    assert [n for n, _ in got] == [2, 3, 5]
    assert got[1][1]["prompt"] == "two\nlines"
    assert got[2][1]["tags"] == ["t"]  # JSON inside a structured column is decoded


def test_csv_row_longer_than_header_is_refused(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,prompt\na,b,c\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"p\.csv, line 2: more fields"):
        list(read_records(path))


def test_parquet_and_saved_dataset_use_row_indices(tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"prompt": "x", "n": 1}, {"prompt": "y", "n": 2}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "p.parquet")
    assert list(read_records(tmp_path / "p.parquet")) == [(0, rows[0]), (1, rows[1])]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    assert list(read_records(tmp_path / "ds")) == [(0, rows[0]), (1, rows[1])]
    assert position(tmp_path / "ds", 1).endswith("row 1")
    assert position(tmp_path / "p.jsonl", 1).endswith("line 1")


def test_dataset_dict_picks_train_split(tmp_path):
    import datasets

    dd = datasets.DatasetDict(
        {"train": datasets.Dataset.from_list([{"p": "t"}]), "test": datasets.Dataset.from_list([{"p": "s"}])}
    )
    dd.save_to_disk(str(tmp_path / "dd"))
    assert list(read_records(tmp_path / "dd")) == [(0, {"p": "t"})]


def test_hub_failure_says_how_to_import_offline(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(InvalidInput, match=r"save_to_disk\(DIR\)") as err:
        list(read_records("hf:someone/prefs:test"))
    assert "'someone/prefs'" in str(err.value) and "'test'" in str(err.value)


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        list(read_records(tmp_path / "nope.jsonl"))
    (tmp_path / "p.txt").write_text("x")
    with pytest.raises(InvalidInput, match="unknown file type"):
        list(read_records(tmp_path / "p.txt"))


def test_write_jsonl_helper_roundtrips(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [{"k": "ü"}])
    assert list(read_records(path)) == [(1, {"k": "ü"})]


def test_hitl_io_and_preferences_stay_light():
    code = (
        "import sys, hitl.io, hitl.preferences; "
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'datasets', 'pyarrow') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
