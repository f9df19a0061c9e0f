"""Reading import files as numbered records: JSONL (optionally gzipped), CSV, Parquet, saved HF datasets, hub ids.

    python -c "from hitl.io.readers import read_records; print(next(read_records('hitl/data/demo_prompts.jsonl')))"

`read_records(path)` yields `(number, record)`. For text files the number is the 1-based line (a CSV's header is
line 1), for Parquet and datasets the 0-based row index (as in `dataset[i]`); `position(path, n)` words it for an
error message. `datasets` and `pyarrow` are imported only when such a file is read: hitl stays light to import.
Records are read one at a time (memory stays flat however long the file), and every record is checked for what
no store can hold (NUL, lone surrogates, nesting past hitl.storable.MAX_DEPTH); a CSV quote left open is an error,
not a prompt that swallows the rest of the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hitl.errors import InvalidInput
from hitl.storable import check_storable

HUB_PREFIX = "hf:"
_JSONL = (".jsonl", ".json", ".jsonl.gz", ".json.gz", ".ndjson")
_CSV = (".csv", ".csv.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in (*_JSONL, *_CSV, ".parquet") if name.endswith(s)), path.suffix.lower())


def is_row_indexed(path: str | Path) -> bool:
    """True for sources numbered by row index (Parquet, datasets), False for line-numbered text files."""
    text = str(path)
    if text.startswith(HUB_PREFIX):
        return True
    p = Path(text)
    return p.is_dir() or Path(text.rpartition(":")[0] or text).is_dir() or _suffix(p) == ".parquet"


def position(path: str | Path, number: int) -> str:
    """'FILE, line N' or 'FILE, row N': where a record came from, for error messages."""
    return f"{path}, {'row' if is_row_indexed(path) else 'line'} {number}"


def read_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records of a JSONL / CSV / Parquet file, a saved HF dataset directory (`DIR:SPLIT` for one split of a
    DatasetDict), or `hf:owner/name[:split]`, each checked storable (InvalidInput naming the file and line
    otherwise)."""
    for number, record in _records(path):
        try:
            check_storable(record, "the record")
        except InvalidInput as exc:
            raise InvalidInput(f"{position(path, number)}: {exc}") from None
        yield number, record


def _records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text = str(path)
    if text.startswith(HUB_PREFIX):
        yield from _read_hub(text)
        return
    p = Path(text)
    folder, _, split = text.rpartition(":")
    if not p.exists() and folder and Path(folder).is_dir():
        # DIR:SPLIT names one split of a saved DatasetDict (train_prefs, test_gen, ...), as hf:NAME:SPLIT does.
        yield from _read_saved_dataset(Path(folder), split)
        return
    if not p.exists():
        raise InvalidInput(f"{p} does not exist")
    if p.is_dir():
        yield from _read_saved_dataset(p)
        return
    suffix = _suffix(p)
    if suffix in _JSONL:
        yield from _read_jsonl(p)
    elif suffix in _CSV:
        yield from _read_csv(p)
    elif suffix == ".parquet":
        yield from _read_parquet(p)
    else:
        raise InvalidInput(
            f"{p}: unknown file type {suffix!r}; use .jsonl (or .jsonl.gz), .csv, .parquet, a directory saved with "
            "datasets' save_to_disk, or hf:owner/name[:split]"
        )


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open_text(path) as f:
        try:
            first = f.read(1)
            while first and first.isspace():
                first = f.read(1)
            f.seek(0)
            if first == "[":
                # A .json file holding one array: number the records 1.. (line numbers mean little there).
                try:
                    data = json.load(f)
                except RecursionError:
                    raise InvalidInput(f"{path}: JSON nested too deeply to read") from None
                for i, record in enumerate(data, start=1):
                    yield i, _as_record(record, path, i, "record")
                return
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except RecursionError:
                    raise InvalidInput(f"{path}, line {number}: JSON nested too deeply to read") from None
                except json.JSONDecodeError as exc:
                    raise InvalidInput(
                        f"{path}, line {number}: not valid JSON ({exc.msg} at column {exc.colno}); each line must be "
                        "one JSON object"
                    ) from None
                yield number, _as_record(record, path, number, "line")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
        except (OSError, EOFError) as exc:
            # gzip raises these for a truncated or non-gzip file.
            raise InvalidInput(f"{path}: cannot read it ({exc})") from None
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None


def _as_record(record: Any, path: Path, number: int, unit: str) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise InvalidInput(f"{path}, {unit} {number}: expected a JSON object, got {type(record).__name__}")
    return record


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open_text(path) as f:
        last_line = 0  # csv counts physical lines; a quoted field may span several, so a record starts after it
        try:
            # strict: a quote left open is an error at the end of the file, not one field holding the rest of it.
            reader = csv.DictReader(f, strict=True)
            if not reader.fieldnames:
                raise InvalidInput(f"{path}: empty CSV; the first line must be a header such as 'id,prompt,tags'")
            last_line = reader.line_num
            for row in reader:
                start, last_line = last_line + 1, reader.line_num
                if None in row:
                    raise InvalidInput(f"{path}, line {start}: more fields than the header has columns")
                yield start, {k: _csv_value(k, v, path, start) for k, v in row.items()}
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
        except csv.Error as exc:
            raise InvalidInput(
                f"{path}, line {last_line + 1}: malformed CSV ({exc}); close every quoted field with a double quote"
            ) from None


# CSV cells are strings; these columns carry structure, written as JSON inside the cell.
_CSV_JSON_COLUMNS = {"messages", "tags", "sampling", "prompt", "chosen", "rejected"}


def _csv_value(key: str, value: str | None, path: Path, line: int) -> Any:
    if value is None:
        return None
    stripped = value.strip()
    if key in _CSV_JSON_COLUMNS and stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except RecursionError:
            raise InvalidInput(f"{path}, line {line}: column {key!r} holds JSON nested too deeply") from None
        except json.JSONDecodeError:
            if key in ("messages", "sampling"):
                raise InvalidInput(f"{path}, line {line}: column {key!r} must hold JSON") from None
    return value


def _read_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc})") from None
    index = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for record in batch.to_pylist():
            yield index, record
            index += 1


def _read_dataset_rows(dataset: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, record in enumerate(dataset):
        yield index, dict(record)


def _read_saved_dataset(path: Path, split: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: not a dataset saved with save_to_disk ({exc})") from None
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded)
        if split is not None and split not in splits:
            raise InvalidInput(f"{path} has no split {split!r}; its splits: {', '.join(splits)}")
        if split is None and len(splits) != 1 and "train" not in splits:
            raise InvalidInput(
                f"{path} holds the splits {', '.join(splits)}: import one of them, e.g. {path}:{splits[0]}"
            )
        loaded = loaded[split or ("train" if "train" in splits else splits[0])]
    elif split is not None:
        raise InvalidInput(f"{path} is one dataset without splits: import {path} itself, not {path}:{split}")
    yield from _read_dataset_rows(loaded)


def _read_hub(spec: str) -> Iterator[tuple[int, dict[str, Any]]]:
    name, _, split = spec.removeprefix(HUB_PREFIX).partition(":")
    if not name:
        raise InvalidInput(f"{spec!r}: write hf:owner/name or hf:owner/name:split")
    import datasets

    try:
        dataset = datasets.load_dataset(name, split=split or "train")
    except Exception as exc:  # offline, unknown dataset or split: the hub client raises many types
        raise InvalidInput(
            f"cannot load {name!r} (split {split or 'train'!r}) from the Hugging Face hub: {type(exc).__name__}: "
            f"{exc}. Without network, on a machine with it run `datasets.load_dataset({name!r}, "
            f"split={split or 'train'!r}).save_to_disk(DIR)`, copy DIR here and import DIR instead"
        ) from None
    yield from _read_dataset_rows(dataset)
