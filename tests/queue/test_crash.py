"""A writer killed with SIGKILL mid-load loses no acknowledged judgment."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from factories import add_items
from sqlalchemy import select

from hitl.store.schema import judgments

WRITER = textwrap.dedent(
    """
    import sys, uuid
    from hitl.store import open_store
    from hitl.campaigns import get_campaign
    from hitl.users import get_user
    from hitl.queue import next_item, submit, JudgmentInput
    store = open_store(sys.argv[1])
    campaign = get_campaign(store, "crash")
    users = [get_user(store, f"w{i}") for i in range(4)]
    i = 0
    while True:
        u = users[i % 4]; i += 1
        a = next_item(store, u, campaign)
        if a is None:
            break
        judgment = JudgmentInput(ranking=[r.response_id for r in a.responses])
        res = submit(store, a.lease_token, uuid.uuid4().hex, judgment, user=u)
        print(res.judgment_id, flush=True)  # acknowledged only after the commit returned
    """
)


def test_sigkill_mid_load_keeps_every_acknowledged_judgment(store, make_user, make_campaign, tmp_path):
    campaign = make_campaign(name="crash", gold_rate=0, overlap=4)
    add_items(store, campaign, 3000)
    for i in range(4):
        make_user(name=f"w{i}")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen([sys.executable, str(script), store.url], stdout=subprocess.PIPE, text=True)
    acked = []
    deadline = time.time() + 60
    while len(acked) < 300 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(acked) >= 300, "the writer did not get going"
    with store.read() as conn:
        stored = set(conn.execute(select(judgments.c.id)).scalars())
    assert set(acked) <= stored
