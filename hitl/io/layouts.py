"""Published preference-set layouts turned into hitl's preference records (prompt / chosen / rejected / strength).

    python -c "from hitl.io.layouts import normalize_layout as n; print(list(n([(1, {'prompt': 'p', \
'response_1': 'a', 'response_2': 'b', 'preference_strength': -2})], 'f')))"

`hitl import preferences` reads TRL records, HH-RLHF dialogues and UltraFeedback-binarized rows as they are
(hitl.io.records). Two layouts need more than one record at a time or a field renamed, and are rewritten here:

- HelpSteer2 (nvidia/HelpSteer2, the default config): one row per response with the aspects `helpfulness`,
  `correctness`, `coherence`, `complexity`, `verbosity` (0-4); consecutive rows of one prompt are its responses.
  Each pair becomes a record with the more helpful response as chosen (as the HelpSteer2 paper trains its reward
  model), strength = the helpfulness gap (1-3), and every aspect kept as the responses' scores.
- HelpSteer2's preference config: `response_1`, `response_2`, `preference_strength` (-3..3, negative when
  response 1 is better). Strength = |preference_strength|; 0 is a tie, refused like every tie.

The layout is recognised from the first record's fields; any other file passes through unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from hitl.errors import InvalidInput
from hitl.io.readers import position
from hitl.io.records import strength_from_gap

HELPSTEER2_ASPECTS = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
HELPSTEER2_SCALE_MAX = 4.0

Numbered = tuple[int, dict[str, Any]]


def layout_of(record: dict[str, Any]) -> str:
    """'helpsteer2', 'helpsteer2-preference' or 'records' (read as they are) for a file whose first record this is."""
    keys = set(record)
    if {"prompt", "response_1", "response_2", "preference_strength"} <= keys:
        return "helpsteer2-preference"
    if {"prompt", "response", "helpfulness"} <= keys and "chosen" not in keys:
        return "helpsteer2"
    return "records"


def normalize_layout(records: Iterable[Numbered], path: Any) -> Iterator[Numbered]:
    """`records` as preference records; each keeps the number of its first source record (for error messages)."""
    stream = iter(records)
    first = next(stream, None)
    if first is None:
        return
    stream = itertools.chain([first], stream)
    layout = layout_of(first[1])
    if layout == "helpsteer2-preference":
        yield from ((n, _from_preference_config(r, path, n)) for n, r in stream)
    elif layout == "helpsteer2":
        yield from _pairs_of_responses(stream, path)
    else:
        yield from stream


def _from_preference_config(record: dict[str, Any], path: Any, number: int) -> dict[str, Any]:
    value = record.get("preference_strength")
    if isinstance(value, bool) or not isinstance(value, int | float) or not -3 <= value <= 3:
        raise InvalidInput(f"{position(path, number)}: 'preference_strength' must be a number from -3 to 3")
    first_better = value < 0
    out = {
        "prompt": record["prompt"],
        "chosen": record["response_1"] if first_better else record["response_2"],
        "rejected": record["response_2"] if first_better else record["response_1"],
    }
    if value == 0:
        out["tie"] = True
    else:
        out["strength"] = int(min(3, max(1, round(abs(value)))))
    return out


def _aspects(record: dict[str, Any], path: Any, number: int) -> dict[str, float]:
    aspects = {}
    for name in HELPSTEER2_ASPECTS:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{position(path, number)}: HelpSteer2 aspect {name!r} must be a number, not {value!r}")
        aspects[name] = float(value)
    if "helpfulness" not in aspects:
        raise InvalidInput(f"{position(path, number)}: a HelpSteer2 row needs 'helpfulness'")
    return aspects


def _pairs_of_responses(stream: Iterable[Numbered], path: Any) -> Iterator[Numbered]:
    for _, group in itertools.groupby(stream, key=lambda nr: nr[1].get("prompt")):
        rows = list(group)
        if len(rows) < 2:
            raise InvalidInput(
                f"{position(path, rows[0][0])}: a HelpSteer2 prompt needs at least two responses in consecutive "
                "rows; this one has one"
            )
        for (n_a, a), (_, b) in itertools.combinations(rows, 2):
            aspects_a, aspects_b = _aspects(a, path, n_a), _aspects(b, path, n_a)
            gap = aspects_a["helpfulness"] - aspects_b["helpfulness"]
            better, worse = ((a, aspects_a), (b, aspects_b)) if gap >= 0 else ((b, aspects_b), (a, aspects_a))
            out = {
                "prompt": a["prompt"],
                "chosen": better[0].get("response"),
                "rejected": worse[0].get("response"),
                "chosen_scores": better[1],
                "rejected_scores": worse[1],
            }
            if gap == 0:
                out["tie"] = True
            else:
                out["strength"] = strength_from_gap(abs(gap), HELPSTEER2_SCALE_MAX)
            yield n_a, out
