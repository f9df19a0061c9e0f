"""Load benchmark of the REST API: simulated raters, each with its own token, doing next + submit over HTTP.

    python scripts/bench_api.py --raters 32 --seconds 20 --out bench-results/api.json

Starts `hitl serve` (one uvicorn worker) on a free local port over a fresh SQLite store, seeds a
campaign, users and their API tokens, then runs one client thread per rater: POST
/api/v1/campaigns/bench/next, then POST /api/v1/leases/{token}/judgment with a fresh idempotency key,
on a keep-alive connection (plain HTTP, not gradio_client's queued path). Client and server share this
machine's cores. Reports judgments/s, p50/p95/p99 of the whole next + submit round trip, and the
integrity check of the collection benchmark: every acknowledged judgment stored exactly once, nothing
stored unacknowledged, no item over its overlap, no rater judging an item twice.
Targets (issue 4, 2-core machine): >= 100 judgments/s, p95 < 250 ms, zero violations.
With --url the benchmark instead drives a server you started (with --db pointing at its store).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_collection import integrity, percentile  # noqa: E402 - the same check as the collection benchmark

from hitl.campaigns import create_campaign, get_campaign  # noqa: E402
from hitl.catalog import add_item, add_prompt, add_response  # noqa: E402
from hitl.config import CampaignSettings  # noqa: E402
from hitl.store import open_store  # noqa: E402
from hitl.users import create_api_token, create_user, get_user  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(store, n_items: int, overlap: int, n_raters: int) -> list[str]:
    """The `bench` campaign with n_items pairs, and one rater with its own API token per simulated rater."""
    campaign = create_campaign(store, CampaignSettings(name="bench", overlap=overlap, gold_rate=0.0))
    with store.write() as conn:
        for i in range(n_items):
            pid = add_prompt(conn, text=f"benchmark prompt {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"response {j} to {i}") for j in range(2)]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
    tokens = []
    for i in range(n_raters):
        create_user(store, f"api-rater{i}", "rater", "benchmark-password")
        tokens.append(create_api_token(store, f"api-rater{i}", "bench"))
    return tokens


def start_server(db_url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", "hitl.cli.main", "serve", "--db", db_url, "--port", str(port)]
    with log.open("wb") as sink:  # a file, not a pipe: nobody reads the server's output while it runs
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"hitl serve exited: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("hitl serve did not start within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_load(host: str, port: int, tokens: list[str], seconds: float) -> dict:
    acked: list[tuple[int, int, str]] = []
    round_ms: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def call(conn, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict | None]:
        payload = None if body is None else json.dumps(body)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)

    def rater(token: str) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine_ms, mine_acked = [], []
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                status, item = call(conn, "POST", "/api/v1/campaigns/bench/next", token)
                if status == 204:
                    break  # nothing left for this rater
                if status != 200:
                    errors[f"next {status}: {str(item)[:80]}"] += 1
                    continue
                key = uuid.uuid4().hex
                ranking = [r["response_id"] for r in item["responses"]]
                path = f"/api/v1/leases/{item['lease_token']}/judgment"
                status, result = call(conn, "POST", path, token, {"idempotency_key": key, "ranking": ranking})
            except (OSError, http.client.HTTPException) as exc:
                errors[f"{type(exc).__name__}: {str(exc)[:60]}"] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                continue
            if status != 200:
                errors[f"submit {status}: {str(result)[:80]}"] += 1
                continue
            mine_ms.append((time.perf_counter() - t0) * 1000)
            mine_acked.append((result["judgment_id"], key))
        conn.close()
        with lock:
            round_ms.extend(mine_ms)
            acked.extend((jid, token, key) for jid, key in mine_acked)

    started = time.perf_counter()
    threads = [threading.Thread(target=rater, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "judgments": len(acked),
        "judgments_per_s": len(acked) / wall,
        "errors": dict(errors),
        "round_trip_ms": {f"p{q}": percentile(round_ms, q) for q in (50, 95, 99)},
        "_acked": acked,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=32, help="Simulated raters, one thread and token each [32].")
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of the run [20].")
    parser.add_argument("--items", type=int, default=4000, help="Items seeded [4000].")
    parser.add_argument("--overlap", type=int, default=3, help="Judgments per item [3].")
    parser.add_argument("--url", help="Drive this running server instead of starting one (needs --db).")
    parser.add_argument("--db", help="The store of the --url server (seeded here before the run).")
    parser.add_argument("--out", help="Write the figures as JSON here.")
    args = parser.parse_args()

    workdir = None
    if args.url:
        if not args.db:
            parser.error("--url needs --db (the store that server uses), for seeding and the integrity check")
        db_url = args.db
    else:
        workdir = tempfile.TemporaryDirectory(prefix="hitl-bench-api-")
        db_url = f"sqlite:///{workdir.name}/bench.db"
    store = open_store(db_url)
    tokens = seed(store, args.items, args.overlap, args.raters)
    token_user = {t: i for i, t in enumerate(tokens)}
    store.close()

    proc = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
    else:
        host, port = "127.0.0.1", free_port()
        proc = start_server(db_url, port, Path(workdir.name) / "server.log")
    try:
        result = run_load(host, port, tokens, args.seconds)
    finally:
        if proc is not None:
            stop_server(proc)

    store = open_store(db_url)
    campaign = get_campaign(store, "bench")
    # integrity() matches acknowledgements on (judgment id, user id, key): map each token to its user id.
    ids = {t: get_user(store, f"api-rater{i}").id for t, i in token_user.items()}
    acked = [(jid, ids[token], key) for jid, token, key in result.pop("_acked")]
    result["integrity"] = integrity(store, campaign, acked)
    store.close()
    result.update(raters=args.raters, seconds=args.seconds, store="sqlite" if db_url.startswith("sqlite") else "pg")

    rt = result["round_trip_ms"]
    print(
        f"{'raters':>7} {'judgments':>10} {'judg/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'violations':>11}"
    )
    print(
        f"{args.raters:>7} {result['judgments']:>10} {result['judgments_per_s']:>8.1f} {rt['p50']:>8.1f} "
        f"{rt['p95']:>8.1f} {rt['p99']:>8.1f} {result['integrity']['violations']:>11}"
    )
    if result["errors"]:
        print("errors:", json.dumps(result["errors"], indent=1))
    ok = result["judgments_per_s"] >= 100 and rt["p95"] < 250 and result["integrity"]["violations"] == 0
    print("targets (>= 100 judgments/s, p95 < 250 ms, 0 violations):", "met" if ok else "NOT met")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if workdir is not None:
        workdir.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
