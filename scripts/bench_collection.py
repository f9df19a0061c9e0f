"""Load benchmark of the collection core: rater threads doing next + submit against SQLite and PostgreSQL.

    python scripts/bench_collection.py --threads 32 --seconds 20 --out bench-results/collection.json

Each thread plays raters: it leases the next item, and either submits a judgment or (10%) abandons
the lease, which must expire and return the item to the pool. Reports judgments per second, p50/p95/p99
latency of next and of submit, and an integrity check against the store afterwards: every
acknowledged submit stored exactly once, no item over its overlap, no user judging an item twice.
Targets (issue 2, 2-core machine): >= 1,000 judgments/s per store, p99 < 50 ms, zero violations.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from hitl.campaigns import create_campaign
from hitl.catalog import add_item, add_prompt, add_response
from hitl.config import CampaignSettings
from hitl.queue import JudgmentInput, next_item, submit
from hitl.store import open_store
from hitl.store.schema import items, judgments
from hitl.users import User, create_user


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def seed(store, n_items: int, overlap: int, ttl: float, n_users: int) -> tuple:
    campaign = create_campaign(
        store, CampaignSettings(name="bench", overlap=overlap, gold_rate=0.0, lease_ttl_seconds=ttl)
    )
    with store.write() as conn:
        for i in range(n_items):
            pid = add_prompt(conn, text=f"benchmark prompt {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"response {j} to {i}") for j in range(2)]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
    # Users are made with a cheap password hash path: scrypt per user is set-up cost, not what we measure.
    users = [create_user(store, f"rater{i}", "rater", "benchmark-password") for i in range(n_users)]
    return campaign, users


def run_load(store, campaign, users: list[User], threads: int, seconds: float, abandon: float) -> dict:
    acked: list[tuple[int, int, str]] = []  # (judgment_id, user_id, key)
    next_ms: list[float] = []
    submit_ms: list[float] = []
    errors: Counter = Counter()
    abandoned = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    per_thread = [users[i::threads] for i in range(threads)]

    def worker(tid: int) -> None:
        rng = random.Random(tid)
        mine = per_thread[tid]
        u_idx = 0
        local_next, local_submit, local_acked = [], [], []
        while time.perf_counter() < stop_at:
            user = mine[u_idx % len(mine)]
            t0 = time.perf_counter()
            try:
                a = next_item(store, user, campaign, rng=rng)
            except Exception as exc:  # noqa: BLE001 - counted as an error of the run
                errors[f"next {type(exc).__name__}: {str(exc)[:60]}"] += 1
                continue
            local_next.append((time.perf_counter() - t0) * 1000)
            if a is None:
                u_idx += 1  # this rater has nothing left: another takes over
                if u_idx > 4 * len(mine):
                    break
                time.sleep(0.01)
                continue
            if rng.random() < abandon:
                with lock:
                    abandoned[0] += 1
                u_idx += 1  # the rater walks away; the lease must expire
                continue
            key = uuid.uuid4().hex
            ranking = [r.response_id for r in a.responses]
            t1 = time.perf_counter()
            try:
                res = submit(store, a.lease_token, key, JudgmentInput(ranking=ranking, strength=2), user=user)
            except Exception as exc:  # noqa: BLE001
                errors[f"submit {type(exc).__name__}: {str(exc)[:60]}"] += 1
                continue
            local_submit.append((time.perf_counter() - t1) * 1000)
            local_acked.append((res.judgment_id, user.id, key))
        with lock:
            next_ms.extend(local_next)
            submit_ms.extend(local_submit)
            acked.extend(local_acked)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "judgments": len(acked),
        "judgments_per_s": len(acked) / wall,
        "abandoned": abandoned[0],
        "errors": dict(errors),
        "next_ms": {f"p{q}": percentile(next_ms, q) for q in (50, 95, 99)},
        "submit_ms": {f"p{q}": percentile(submit_ms, q) for q in (50, 95, 99)},
        "_acked": acked,
    }


def integrity(store, campaign, acked) -> dict:
    with store.read() as conn:
        stored = conn.execute(select(judgments.c.id, judgments.c.user_id, judgments.c.idempotency_key)).all()
        over = conn.execute(
            select(func.count())
            .select_from(items)
            .where(items.c.campaign_id == campaign.id, items.c.judgment_count > campaign.settings.overlap)
        ).scalar()
        per_item = conn.execute(select(judgments.c.item_id, func.count()).group_by(judgments.c.item_id)).all()
        twice = conn.execute(
            select(func.count()).select_from(
                select(judgments.c.item_id, judgments.c.user_id)
                .group_by(judgments.c.item_id, judgments.c.user_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar()
    stored_set = Counter((r.id, r.user_id, r.idempotency_key) for r in stored)
    missing = sum(1 for a in acked if stored_set[a] != 1)
    unacknowledged = len(stored) - len(acked)
    return {
        "acknowledged_missing_or_duplicated": missing,
        "stored_but_not_acknowledged": unacknowledged,
        "items_over_overlap": over + sum(1 for _, n in per_item if n > campaign.settings.overlap),
        "user_judged_item_twice": twice,
        "violations": missing + abs(unacknowledged) + over + twice,
    }


def _pg_admin(base: str, statement: str) -> None:
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def fresh_pg_url(base: str) -> tuple[str, str] | None:
    """(URL, schema) of a new empty schema, so every run starts from the same state; None when unreachable."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        _pg_admin(base, f"CREATE SCHEMA {schema}")
    except Exception as exc:  # noqa: BLE001 - the PostgreSQL half is skipped with the reason
        print(f"PostgreSQL at {base} unavailable ({exc}); skipping it", file=sys.stderr)
        return None
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def bench_store(name: str, url: str, args) -> dict:
    store = open_store(url, pool_size=args.pg_pool)
    n_users = args.threads * 4
    campaign, users = seed(store, args.items, args.overlap, args.lease_ttl, n_users)
    result = run_load(store, campaign, users, args.threads, args.seconds, args.abandon)
    result["integrity"] = integrity(store, campaign, result.pop("_acked"))
    store.close()
    result["store"] = name
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0, help="Load duration per store and run.")
    parser.add_argument("--runs", type=int, default=3, help="Runs per store; the median is reported.")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--lease-ttl", type=float, default=2.0, help="Short, so abandoned leases expire in the run.")
    parser.add_argument("--abandon", type=float, default=0.10)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--pg-pool", type=int, default=16, help="PostgreSQL connections (2 cores: fewer is faster).")
    parser.add_argument("--out", default="bench-results/collection.json")
    args = parser.parse_args()

    results = []
    for name in args.stores.split(","):
        for run in range(args.runs):
            schema = folder = None
            if name == "sqlite":
                folder = tempfile.mkdtemp(prefix="hitl-bench-")
                url = f"sqlite:///{folder}/bench.db"
            else:
                fresh = fresh_pg_url(args.postgres_url)
                if fresh is None:
                    break
                url, schema = fresh
            try:
                r = bench_store(name, url, args)
            finally:
                if schema:  # the shared test database is left as it was found
                    _pg_admin(args.postgres_url, f"DROP SCHEMA {schema} CASCADE")
                if folder:
                    shutil.rmtree(folder, ignore_errors=True)
            r["run"] = run
            results.append(r)
            print(
                f"{name:10s} run {run}: {r['judgments_per_s']:7.0f} judgments/s"
                f"  next p99 {r['next_ms']['p99']:6.1f} ms"
                f"  submit p99 {r['submit_ms']['p99']:6.1f} ms  violations {r['integrity']['violations']}"
                f"  errors {r['errors']}",
                file=sys.stderr,
            )
    summary = {}
    print(
        f"\n{'store':10s} {'judg/s':>8s} {'next p50/p95/p99 ms':>22s}"
        f" {'submit p50/p95/p99 ms':>24s} {'violations':>10s}"
    )
    for name in dict.fromkeys(r["store"] for r in results):
        runs = [r for r in results if r["store"] == name]
        med = {
            "judgments_per_s": statistics.median(r["judgments_per_s"] for r in runs),
            "next_ms": {q: statistics.median(r["next_ms"][q] for r in runs) for q in ("p50", "p95", "p99")},
            "submit_ms": {q: statistics.median(r["submit_ms"][q] for r in runs) for q in ("p50", "p95", "p99")},
            "violations": sum(r["integrity"]["violations"] for r in runs),
            "runs": len(runs),
        }
        summary[name] = med
        n, s = med["next_ms"], med["submit_ms"]
        print(
            f"{name:10s} {med['judgments_per_s']:8.0f} {n['p50']:6.1f}/{n['p95']:6.1f}/{n['p99']:6.1f}"
            f"     {s['p50']:6.1f}/{s['p95']:6.1f}/{s['p99']:6.1f} {med['violations']:10d}"
        )
    print("targets: >= 1000 judgments/s, p99 < 50 ms, 0 violations")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"args": vars(args), "summary": summary, "runs": results, "time": time.time()}, indent=2)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
