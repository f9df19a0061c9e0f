"""Administration: users, API tokens, campaigns, uploads of prompts and responses, exports.

    python -c "from hitl.service import Service; help(Service.admin)"

Every method needs the admin role. Uploads are size-checked before they are read, and an upload with a
bad record stores nothing and names the line to fix (hitl.io). Exports are written to a private
temporary folder and handed to the authenticated download route, never to the Gradio file cache.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select

from hitl import io, users
from hitl.campaigns import (
    campaign_names,
    changed_settings,
    create_campaign,
    get_campaign,
    item_counts,
    list_campaigns,
    update_campaign,
)
from hitl.config import CampaignSettings
from hitl.errors import Conflict, Forbidden, HitlError, InvalidInput
from hitl.io import ImportReport
from hitl.service.access import require
from hitl.service.heavy import HeavyGate
from hitl.service.sessions import end_sessions_of
from hitl.service.settings import WebSettings
from hitl.storable import check_storable
from hitl.store import Store
from hitl.store.schema import api_tokens
from hitl.users import User

CAMPAIGN_FIELDS = [f.name for f in dataclasses.fields(CampaignSettings)]
UPLOAD_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".parquet")
# What a download can be: the single-file formats of hitl.io.FORMATS (a saved HF dataset is a folder).
EXPORT_SUFFIX = {"jsonl": ".jsonl", "parquet": ".parquet"}
DOWNLOAD_FORMATS = tuple(EXPORT_SUFFIX)


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    active: bool
    api_tokens: int


@dataclass(frozen=True)
class ExportFile:
    """A finished export: the data file, its manifest, and the folder to delete once it is sent."""

    path: Path
    download_name: str
    folder: Path
    counts: dict
    sha256: str

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class AdminService:
    def __init__(
        self,
        store: Store,
        settings: WebSettings,
        on_change: Callable[[], None] = lambda: None,
        gate: HeavyGate | None = None,
    ):
        self.store = store
        self.settings = settings
        self.changed = on_change  # clears the service's caches of identities and campaign settings
        self.heavy = gate or HeavyGate()  # exports share the slot of every heavy computation
        self.imports = HeavyGate(1)  # one import at a time: they all queue for the one writer anyway

    # --- users and tokens ---

    def users(self, caller: User) -> list[UserRow]:
        require(caller, "admin")
        with self.store.read() as conn:
            live = dict(
                conn.execute(
                    select(api_tokens.c.user_id, func.count())
                    .where(api_tokens.c.revoked_at.is_(None))
                    .group_by(api_tokens.c.user_id)
                ).all()
            )
        return [UserRow(u.name, u.role, u.active, live.get(u.id, 0)) for u in users.list_users(self.store)]

    def add_user(self, caller: User, name: str, role: str, password: str) -> User:
        require(caller, "admin")
        return users.create_user(self.store, (name or "").strip(), role, password or "")

    def _not_self(self, caller: User, name: str, what: str) -> None:
        # An admin locking themselves out (disable, demote) leaves nobody to undo it.
        if name == caller.name:
            raise Forbidden(f"you cannot {what} your own account: ask another admin")

    def set_active(self, caller: User, name: str, active: bool) -> User:
        require(caller, "admin")
        if not active:
            self._not_self(caller, name, "disable")
        user = users.set_active(self.store, name, bool(active))
        if not active:
            end_sessions_of(self.store, user.id)
        self.changed()
        return user

    def set_role(self, caller: User, name: str, role: str) -> User:
        require(caller, "admin")
        if role != "admin":
            self._not_self(caller, name, "demote")
        user = users.set_role(self.store, name, role)
        end_sessions_of(self.store, user.id)  # the new role applies from the next login
        self.changed()
        return user

    def reset_password(self, caller: User, name: str, password: str) -> User:
        require(caller, "admin")
        user = users.set_password(self.store, name, password or "")
        if name != caller.name:
            end_sessions_of(self.store, user.id)
        return user

    def create_token(self, caller: User, name: str, label: str = "") -> str:
        """A new API token for `name` (shown once; only its hash is stored)."""
        require(caller, "admin")
        if len(label or "") > 128:
            raise InvalidInput("the token label is longer than 128 characters")
        check_storable(label or "", "label")
        return users.create_api_token(self.store, name, label or "")

    def revoke_tokens(self, caller: User, name: str) -> int:
        require(caller, "admin")
        revoked = users.revoke_api_tokens(self.store, name)
        self.changed()
        return revoked

    # --- campaigns ---

    def campaigns(self, caller: User) -> list[dict]:
        """Every campaign's settings and item counts (the admin's table; pickers use campaign_names)."""
        require(caller, "admin")
        return [{**dataclasses.asdict(c.settings), **item_counts(self.store, c)} for c in list_campaigns(self.store)]

    def campaign_names(self, caller: User) -> list[str]:
        """Every campaign's name, for the admin page's pickers (cheaper than the table of counts)."""
        require(caller, "admin")
        return campaign_names(self.store)

    def campaign(self, caller: User, name: str) -> CampaignSettings:
        """One campaign's stored settings (what the admin page's form is filled with)."""
        require(caller, "admin")
        return get_campaign(self.store, str(name or "")).settings

    def save_campaign(self, caller: User, values: dict) -> CampaignSettings:
        """Create the campaign named in `values`, or change the given (not None) settings of an existing one."""
        require(caller, "admin")
        check_storable(values, "campaign")
        unknown = sorted(set(values) - set(CAMPAIGN_FIELDS))
        if unknown:
            raise InvalidInput(
                f"unknown campaign setting(s) {', '.join(unknown)}; known: {', '.join(CAMPAIGN_FIELDS)}"
            )
        name = str(values.get("name") or "").strip()
        if name in campaign_names(self.store):
            changes = {k: v for k, v in values.items() if k != "name" and v is not None}
            saved = update_campaign(self.store, name, **changes).settings
            self.changed()
            return saved
        try:
            settings = CampaignSettings(**{k: v for k, v in values.items() if v is not None})
        except TypeError as exc:
            raise InvalidInput(f"campaign settings: {exc}") from None
        return create_campaign(self.store, settings).settings

    def save_campaign_form(self, caller: User, values: dict, *, new: bool) -> tuple[CampaignSettings, list[str]]:
        """Save the admin page's form, which holds every setting. `new`: create the campaign from them all
        (Conflict if the name is taken). Otherwise change only the settings that differ from the stored ones, so
        a field the admin did not touch never overwrites a setting. Returns the settings and the names of the
        settings that changed (none when the form matches the stored campaign)."""
        require(caller, "admin")
        name = str(values.get("name") or "").strip()
        if new:
            if name in campaign_names(self.store):
                raise Conflict(f"campaign {name!r} already exists: pick it in the list to change its settings")
            return self.save_campaign(caller, {**values, "name": name}), sorted(set(values) - {"name"})
        changes = changed_settings(self.campaign(caller, name), values)
        if not changes:
            return self.campaign(caller, name), []
        return self.save_campaign(caller, {"name": name, **changes}), sorted(changes)

    # --- data in and out ---

    def _stage_upload(self, stream: BinaryIO, filename: str) -> Path:
        """Copy an upload into a private folder under its own (cleaned) name, refusing it past the size limit.

        Compressed files are refused: their size says nothing about what they unpack to.
        """
        name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(str(filename or "")).name)[:100]
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            raise InvalidInput(f"upload a {', '.join(UPLOAD_SUFFIXES)} file, not {Path(str(filename)).name!r}")
        folder = Path(tempfile.mkdtemp(prefix="hitl-upload-"))
        target = folder / name
        size = 0
        with target.open("wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > self.settings.max_upload_bytes:
                    shutil.rmtree(folder, ignore_errors=True)
                    raise InvalidInput(
                        f"the file is over the upload limit of {self.settings.max_upload_mb:g} MB: split it, or use "
                        "`hitl import` on the server"
                    )
                out.write(chunk)
        return target

    def import_upload(
        self,
        caller: User,
        kind: str,
        stream: BinaryIO,
        filename: str,
        *,
        campaign: str | None = None,
        model: str | None = None,
        pairing: str = "all-pairs",
        tags: list[str] | tuple[str, ...] = (),
    ) -> ImportReport:
        """Import uploaded prompts or responses: all or nothing, errors name the line ('prompts.jsonl, line 3')."""
        require(caller, "admin")
        if kind not in ("prompts", "responses"):
            raise InvalidInput("kind must be 'prompts' or 'responses'")
        return self.imports.run(lambda: self._import(kind, stream, filename, campaign, model, pairing, tags), "import")

    def _import(self, kind, stream, filename, campaign, model, pairing, tags) -> ImportReport:
        path = self._stage_upload(stream, filename)
        try:
            if kind == "prompts":
                report = io.import_prompts(self.store, path, source=path.name, tags=list(tags or ()))
            else:
                report = io.import_responses(
                    self.store,
                    path,
                    campaign=campaign or None,
                    model=model or None,
                    pairing=pairing,
                    source=path.name,
                )
        except HitlError as exc:
            # Name the file as the admin knows it, not by its temporary folder.
            raise type(exc)(str(exc).replace(f"{path.parent}/", "")) from None
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
        report.file = path.name
        return report

    def import_path(self, caller: User, kind: str, path: str | Path, **options) -> ImportReport:
        """Like import_upload, for a file the web page already received (Gradio's upload folder)."""
        require(caller, "admin")
        p = Path(str(path or ""))
        if not p.is_file():
            raise InvalidInput("no file arrived: choose the file again")
        with p.open("rb") as stream:
            return self.import_upload(caller, kind, stream, p.name, **options)

    def export(
        self,
        caller: User,
        *,
        campaign: str | None = None,
        layout: str = "pairs",
        fmt: str = "jsonl",
        aggregate: str = "all",
        ties: str = "drop",
        both_bad: str = "drop",
    ) -> ExportFile:
        """Write an export into a fresh private folder; the caller sends it and then calls cleanup()."""
        require(caller, "admin")
        if fmt not in EXPORT_SUFFIX:
            raise InvalidInput(f"format must be one of {', '.join(EXPORT_SUFFIX)} for a download")
        return self.heavy.run(lambda: self._export(campaign, layout, fmt, aggregate, ties, both_bad), "export")

    def _export(self, campaign, layout, fmt, aggregate, ties, both_bad) -> ExportFile:
        folder = Path(tempfile.mkdtemp(prefix="hitl-export-"))
        name = f"{campaign or 'all'}-{layout}{EXPORT_SUFFIX[fmt]}"
        try:
            manifest = io.export(
                self.store,
                folder / name,
                fmt=fmt,
                layout=layout,
                campaign=campaign or None,
                aggregate=aggregate,
                ties=ties,
                both_bad=both_bad,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return ExportFile(Path(manifest.data_path), name, folder, manifest.counts, str(manifest.sha256))
