"""Browser tests: a real `hitl serve` app (in a thread) over a seeded store, driven by headless Debian chromium.

Chromium comes from Debian's package (`make setup` installs it); Playwright drives it through
`executable_path`, never a downloaded browser. The tests are skipped only when chromium is missing and
cannot be installed here.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery"
KEYS_ITEMS = 26  # the keyboard test's own campaign: 20 judgments, skips and a few spare
RANKED_GUIDE = "Rank **all three**, best first."
PAYLOADS = [
    "<script>window.__pwned = 'script'</script>Plain words after a script tag.",
    "<img src=x onerror=\"window.__pwned='img'\"> and an image that fails",
    "[click me](javascript:window.__pwned='link') and <a href=\"javascript:window.__pwned='a'\">a raw link</a>",
    "<svg onload=\"window.__pwned='svg'\"><script>window.__pwned='svg-script'</script></svg> svg payload",
    # Every payload keeps some visible words: the tests wait for non-empty text in whichever slot it lands.
    "Frame payload <iframe src=\"javascript:window.__pwned='iframe'\"></iframe>"
    "<details open ontoggle=\"window.__pwned='details'\">",
]


def _chromium_available() -> bool:
    if os.path.exists(CHROMIUM):
        return True
    # Same step as `make setup`: Debian's chromium, when we may install packages.
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, timeout=900)
    return os.path.exists(CHROMIUM)


@dataclass
class Site:
    url: str
    store: object

    def login(self, page, name: str, password: str = PASSWORD, then: str = "/") -> None:
        page.goto(f"{self.url}/login?next={then}")
        page.fill("#username", name)
        page.fill("#password", password)
        page.click("#login")
        page.wait_for_load_state("load")


def _seed(store) -> None:
    from hitl.campaigns import create_campaign
    from hitl.catalog import add_item, add_prompt, add_response, register_model_version
    from hitl.config import CampaignSettings
    from hitl.users import create_user

    for name, role in (("rita", "rater"), ("kira", "rater"), ("vera", "reviewer"), ("ada", "admin")):
        create_user(store, name, role, PASSWORD)
    demo = create_campaign(store, CampaignSettings(name="demo", overlap=1, gold_rate=0.0, guidelines="**Be fair.**"))
    xss = create_campaign(store, CampaignSettings(name="xss", overlap=1, gold_rate=0.0))
    keys = create_campaign(store, CampaignSettings(name="keys", overlap=1, gold_rate=0.0))
    ranked = create_campaign(
        store, CampaignSettings(name="ranked", item_kind="ranking", overlap=1, gold_rate=0.0, guidelines=RANKED_GUIDE)
    )
    with store.write() as conn:
        for i in range(4):
            pid = add_prompt(conn, text=f"Explain idea number {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"Answer {j} about idea {i}" + "!" * j) for j in range(2)]
            add_item(conn, campaign_id=demo.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
        for k in range(0, len(PAYLOADS), 2):
            pid = add_prompt(conn, text=PAYLOADS[(k + 1) % len(PAYLOADS)])
            texts = [PAYLOADS[k], PAYLOADS[(k + 2) % len(PAYLOADS)] + " (second)"]
            rids = [add_response(conn, prompt_id=pid, text=t) for t in texts]
            add_item(conn, campaign_id=xss.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
        for i in range(KEYS_ITEMS):
            pid = add_prompt(conn, text=f"Keyboard question {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"Keyboard answer {j} to question {i}") for j in range(2)]
            add_item(conn, campaign_id=keys.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
        pid = add_prompt(conn, text="Rank these three")
        rids = [add_response(conn, prompt_id=pid, text=f"Ranked answer {j}") for j in range(3)]
        add_item(conn, campaign_id=ranked.id, prompt_id=pid, response_ids=rids, item_kind="ranking")
        models = [register_model_version(conn, kind="policy", name=n) for n in ("base", "tuned")]
        for i in range(3):
            pid = add_prompt(conn, text=f"Arena question {i}")
            for k, mid in enumerate(models):
                add_response(conn, prompt_id=pid, text=f"Arena answer {k} to {i}", model_version_id=mid)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    import uvicorn

    from collection_ui.app import build_app
    from hitl.service import Service
    from hitl.store import open_store

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('site') / 'hitl.db'}")
    _seed(store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_app(Service(store)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.1)
    assert server.started, "the app did not start"
    yield Site(f"http://127.0.0.1:{port}", store)
    server.should_exit = True
    thread.join(timeout=30)
    store.close()


@pytest.fixture(scope="session")
def browser():
    if not _chromium_available():
        pytest.skip("Debian's chromium is not installed and cannot be installed here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(45_000)  # two shared cores: pages can be slow under load
    yield page
    context.close()


# Each page and a text it shows once its data has loaded.
PAGES_FOR_SHOTS = [
    ("rate", "Judged today"),
    ("review", "items to look at"),
    ("arena", "Press"),
    ("leaderboard", "counted battle"),
    ("dashboard", "Krippendorff"),
    ("admin", "API tokens"),
]
