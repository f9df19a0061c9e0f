"""psycopg is the [postgres] extra: a SQLite install never imports it, works without it, and a PostgreSQL URL
without it says what to install."""

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_sqlite_never_imports_psycopg_and_postgres_names_the_extra(tmp_path):
    done = _run(
        f"""
        import sys
        sys.modules["psycopg"] = None  # as if the [postgres] extra were not installed: importing it fails
        import uuid
        import collection_ui.app, hitl.cli.main
        from hitl.campaigns import create_campaign
        from hitl.catalog import add_item, add_prompt, add_response
        from hitl.config import CampaignSettings
        from hitl.queue import JudgmentInput, next_item, submit
        from hitl.store import StoreError, open_store
        from hitl.users import create_user

        store = open_store("sqlite:///{tmp_path / "a.db"}")
        c = create_campaign(store, CampaignSettings(name="c", overlap=1))
        with store.write() as conn:
            pid = add_prompt(conn, text="Hi?")
            rids = [add_response(conn, prompt_id=pid, text=t) for t in ("Hello.", "Go away.")]
            add_item(conn, campaign_id=c.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
        user = create_user(store, "alice", "rater", "correct-horse-battery")
        lease = next_item(store, user, c)
        key = uuid.uuid4().hex
        submit(store, lease.lease_token, key, JudgmentInput(ranking=rids), user=user)
        try:
            submit(store, lease.lease_token, key, JudgmentInput(ranking=rids), user=user)  # a retry: same result
        except Exception as exc:
            print("retry refused", type(exc).__name__)
        try:
            open_store("postgresql://postgres@127.0.0.1:1/none")
        except StoreError as exc:
            print("refused:", exc)
        print("psycopg loaded:", sys.modules.get("psycopg") is not None)
        """
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "refused: a PostgreSQL store needs psycopg: pip install 'hitl-rlhf[postgres]'" in done.stdout
    assert "psycopg loaded: False" in done.stdout
