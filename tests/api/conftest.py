"""Fixtures of the REST API and service tests: a store with users of each role, a campaign, tokens, a client."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from collection_ui.api import build_api
from hitl.campaigns import create_campaign
from hitl.catalog import add_item, add_prompt, add_response, register_model_version
from hitl.config import CampaignSettings
from hitl.service import Service, WebSettings
from hitl.users import User, create_api_token, create_user

PASSWORD = "correct-horse-battery"


@dataclass
class World:
    service: Service
    rater: User
    rater2: User
    reviewer: User
    admin: User
    tokens: dict[str, str]

    @property
    def store(self):
        return self.service.store

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def add_pairs(store, campaign, n: int, prefix: str = "item") -> list[int]:
    """n pairwise items with distinct texts; returns item ids."""
    ids = []
    with store.write() as conn:
        for i in range(n):
            pid = add_prompt(conn, text=f"{prefix} prompt {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"{prefix} answer {j} to {i}" + "!" * j) for j in range(2)]
            ids.append(add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise"))
    return ids


def add_versus(store, prompts: int, models: tuple[str, ...] = ("m-small", "m-large"), tag: str = "arena") -> None:
    """Stored answers of several model versions to the same prompts (what the arena battles on)."""
    with store.write() as conn:
        ids = [register_model_version(conn, kind="policy", name=m) for m in models]
        for i in range(prompts):
            pid = add_prompt(conn, text=f"arena prompt {i}", tags=[tag])
            for k, mid in enumerate(ids):
                add_response(
                    conn, prompt_id=pid, text=f"answer {k} to arena prompt {i}" + "." * k, model_version_id=mid
                )


@pytest.fixture
def world(store) -> World:
    service = Service(store, WebSettings(max_failed_logins=3, max_upload_mb=0.01))
    people = {
        "rater": create_user(store, "rita", "rater", PASSWORD),
        "rater2": create_user(store, "rob", "rater", PASSWORD),
        "reviewer": create_user(store, "vera", "reviewer", PASSWORD),
        "admin": create_user(store, "ada", "admin", PASSWORD),
    }
    tokens = {role: create_api_token(store, u.name, "test") for role, u in people.items()}
    campaign = create_campaign(store, CampaignSettings(name="demo", overlap=2, gold_rate=0.0, guidelines="Be fair."))
    add_pairs(store, campaign, 4)
    return World(service, people["rater"], people["rater2"], people["reviewer"], people["admin"], tokens)


@pytest.fixture
def client(world) -> TestClient:
    with TestClient(build_api(world.service)) as c:
        yield c
