"""Import prompts, responses and preference pairs from files; export judgments as training data.

    python -c "import hitl.store as s, hitl.io as io; print(io.import_prompts(s.open_store(), 'prompts.jsonl'))"

Readers accept JSONL (also gzipped), CSV, Parquet, saved HF datasets and `hf:owner/name[:split]`; heavy libraries
(pyarrow, datasets) are imported only when such a source is used.
"""

from hitl.io.exports import FORMATS, LAYOUTS, MARGIN_PER_STRENGTH, Manifest, export
from hitl.io.imports import ImportReport, import_prompts, import_responses
from hitl.io.preference_import import import_preferences
from hitl.io.readers import read_records
from hitl.io.records import split_hh_dialogue

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "MARGIN_PER_STRENGTH",
    "ImportReport",
    "Manifest",
    "export",
    "import_preferences",
    "import_prompts",
    "import_responses",
    "read_records",
    "split_hh_dialogue",
]
