"""Simulated raters over HTTP against a running app: each with its own API token, same judgments as in-process."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import func, select

from hitl.campaigns import create_campaign
from hitl.config import CampaignSettings
from hitl.errors import InvalidInput
from hitl.simulate import default_crowd, load_oracle, simulate
from hitl.store.schema import judgments, users
from tests.simulate.test_simulate import add_length_pairs


@pytest.fixture
def served(sqlite_store):
    import uvicorn

    from collection_ui.app import build_app
    from hitl.service import Service

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_app(Service(sqlite_store), pages=()), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield sqlite_store, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_simulated_raters_judge_over_http_with_their_own_tokens(served):
    store, url = served
    campaign = create_campaign(store, CampaignSettings(name="http", gold_rate=0, overlap=2))
    add_length_pairs(store, campaign, 10)
    report = simulate(store, campaign, default_crowd(4), load_oracle("rule:contains=correct"), 100, url=url)
    assert report.total == 20 and len(report.exhausted) == 4  # every item judged twice, then the queue is dry
    with store.read() as conn:
        by_rater = dict(
            conn.execute(
                select(users.c.name, func.count())
                .join(judgments, judgments.c.user_id == users.c.id)
                .group_by(users.c.name)
            ).all()
        )
    assert sum(by_rater.values()) == 20 and set(by_rater) <= {b.name for b in default_crowd(4)}


def test_a_server_that_is_not_there_is_a_clear_error(sqlite_store):
    campaign = create_campaign(sqlite_store, CampaignSettings(name="nobody", gold_rate=0))
    add_length_pairs(sqlite_store, campaign, 2)
    with pytest.raises(InvalidInput, match="is `hitl serve` running"):
        simulate(sqlite_store, campaign, default_crowd(4), load_oracle("rule:concise"), 5, url="http://127.0.0.1:9")
    with pytest.raises(InvalidInput, match="give the server's address"):
        simulate(sqlite_store, campaign, default_crowd(4), load_oracle("rule:concise"), 5, url="localhost:7860")
