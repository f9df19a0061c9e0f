"""Abuse benchmark: raters' latency while others hammer the expensive endpoints, import, and guess passwords.

    python scripts/bench_abuse.py --out bench-results/abuse.json            # about 3 minutes on 2 cores
    python scripts/bench_abuse.py --seconds 5 --prompts 100000 --big-prompts 0   # a quick look

Local only and bounded: `hitl serve` (one worker, all pages) on a free port of 127.0.0.1 over a fresh SQLite store;
every load loop stops after --seconds. Four parts, each replaying a finding of issue 12:

1. abuse: 8 clients send the costliest requests there are, at their largest parameters, back to back (the
   leaderboard at rounds=1000 on both boards, /stats, the whole review queue, new arena battles, full exports)
   while one rater probes /api/v1/me and two raters do next + submit. Target: p95 of both < 250 ms.
2. import: `hitl import prompts` of --prompts prompts (400k: a 41 MB file) while two raters do next + submit.
   Targets: the raters' p95 < 250 ms, no 5xx.
3. big import: --big-prompts prompts (2M: ~200 MB) imported by the CLI; its peak memory (max RSS) is reported.
4. logins: 1,000 guesses from one client, spread over names, with a spoofed X-Forwarded-For each; how many got a
   password check, and whether the victim (another address, its known-device cookie) still logs in.
Prints a short table and writes everything to --out.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import free_port, start_server, stop_server  # noqa: E402 - one way to start `hitl serve`
from bench_collection import percentile  # noqa: E402

from hitl.campaigns import create_campaign  # noqa: E402
from hitl.catalog import add_item, add_prompt, add_response, register_model_version  # noqa: E402
from hitl.config import CampaignSettings  # noqa: E402
from hitl.service import record_battle  # noqa: E402
from hitl.store import open_store  # noqa: E402
from hitl.users import create_api_token, create_user  # noqa: E402

PASSWORD = "benchmark-pass-phrase"
TARGET_MS = 250.0


def seed(store, items: int, battles: int) -> dict[str, str]:
    """Campaign `bench` with `items` pairs, judged enough for a real dashboard; arena answers of 4 models with
    `battles` counted battles; tokens for raters, a reviewer and an admin."""
    campaign = create_campaign(store, CampaignSettings(name="bench", overlap=3, gold_rate=0.0))
    rng = random.Random(0)
    with store.write() as conn:
        for i in range(items):
            pid = add_prompt(conn, text=f"benchmark prompt {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"response {j} to {i}") for j in range(2)]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
        models = [register_model_version(conn, kind="policy", name=f"model-{m}") for m in range(4)]
        answers = []
        for i in range(200):
            pid = add_prompt(conn, text=f"arena prompt {i}", tags=["arena"])
            answers.append(
                [add_response(conn, prompt_id=pid, text=f"{m} on {i}", model_version_id=models[m]) for m in range(4)]
            )
    for _ in range(battles):
        a, b = rng.sample(range(4), 2)
        row = rng.choice(answers)
        record_battle(store, row[a], row[b], rng.choice(["a", "b", "tie"]), judge="human")
    tokens = {}
    for name, role in [
        ("rater0", "rater"),
        ("rater1", "rater"),
        ("rater2", "rater"),
        ("rater3", "rater"),
        ("vera", "reviewer"),
        ("ada", "admin"),
        ("victim", "admin"),
    ]:
        create_user(store, name, role, PASSWORD)
        tokens[name] = create_api_token(store, name, "bench")
    return tokens


def _call(conn, method: str, path: str, token: str | None = None, body=None, headers=None) -> tuple[int, bytes]:
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    response = conn.getresponse()
    return response.status, response.read()


def rater_loop(port: int, token: str, stop: threading.Event, out: list[float], errors: Counter) -> None:
    """next + submit until stopped; each round trip's milliseconds into `out`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            status, data = _call(conn, "POST", "/api/v1/campaigns/bench/next", token)
            if status == 204:
                break
            if status != 200:
                errors[f"next {status}"] += 1
                time.sleep(0.05)
                continue
            item = json.loads(data)
            ranking = [r["response_id"] for r in item["responses"]]
            body = {"idempotency_key": uuid.uuid4().hex, "ranking": ranking, "strength": 2}
            status, _ = _call(conn, "POST", f"/api/v1/leases/{item['lease_token']}/judgment", token, body)
            if status != 200:
                errors[f"submit {status}"] += 1
                continue
            out.append((time.perf_counter() - t0) * 1000)
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def me_loop(port: int, token: str, stop: threading.Event, out: list[float], errors: Counter) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        t0 = time.perf_counter()
        status, _ = _call(conn, "GET", "/api/v1/me", token)
        if status == 200:
            out.append((time.perf_counter() - t0) * 1000)
        else:
            errors[f"me {status}"] += 1
        time.sleep(0.05)


def abuser(port: int, tokens: dict, k: int, stop: threading.Event, statuses: Counter) -> None:
    """The costliest requests, at their largest parameters, back to back."""
    requests = [
        ("GET", "/api/v1/arena/leaderboard?rounds=1000&judge=human", tokens["rater2"], None),
        ("GET", "/api/v1/arena/leaderboard?rounds=1000&judge=reward", tokens["rater3"], None),
        ("GET", "/api/v1/stats?campaign=bench", tokens["vera"], None),
        ("GET", "/api/v1/review", tokens["vera"], None),
        ("POST", "/api/v1/arena/battles", tokens["rater2"], {"prompt_set": "all"}),
        ("GET", "/api/v1/export?layout=raw", tokens["ada"], None),
        ("GET", "/api/v1/export?aggregate=dawid_skene", tokens["ada"], None),
        ("GET", "/api/v1/campaigns/bench/progress", tokens["rater3"], None),
    ]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    i = k
    while not stop.is_set():
        method, path, token, body = requests[i % len(requests)]
        i += 1
        try:
            status, _ = _call(conn, method, path, token, body)
            statuses[status] += 1
        except (OSError, http.client.HTTPException):
            statuses["conn-error"] += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def _summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99)}


def part_abuse(port: int, tokens: dict, seconds: float) -> dict:
    stop = threading.Event()
    me_ms, round_ms, errors, statuses = [], [], Counter(), Counter()
    threads = [threading.Thread(target=me_loop, args=(port, tokens["rater0"], stop, me_ms, errors))]
    threads += [
        threading.Thread(target=rater_loop, args=(port, tokens[f"rater{r}"], stop, round_ms, errors)) for r in (0, 1)
    ]
    threads += [threading.Thread(target=abuser, args=(port, tokens, k, stop, statuses)) for k in range(8)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=180)
    return {
        "me": _summary(me_ms),
        "next_submit": _summary(round_ms),
        "rater_errors": dict(errors),
        "abuser_statuses": {str(k): v for k, v in statuses.items()},
    }


def write_prompts(path: Path, n: int) -> int:
    with path.open("w") as f:
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "id": f"bulk-{uuid.uuid4().hex[:8]}-{i}",
                        "prompt": f"Bulk prompt number {i}: explain the idea in a few sentences, with one example.",
                    }
                )
                + "\n"
            )
    return path.stat().st_size


# The CLI's import, run in a process of its own that reports its own peak memory (RUSAGE_CHILDREN would be the
# largest child so far: the server).
_IMPORT = (
    "import resource, sys\n"
    "from hitl.cli.main import main\n"
    "code = main(['import', 'prompts', sys.argv[1], '--db', sys.argv[2]])\n"
    "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_import(db_url: str, path: Path) -> tuple[float, int, int]:
    """`hitl import prompts` in its own process: (seconds, exit code, peak RSS in kB of that process)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _IMPORT, str(path), db_url], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak = re.search(r"peak_kb (\d+)", proc.stderr)
    if proc.returncode:
        print(proc.stderr[-500:], file=sys.stderr)
    return seconds, proc.returncode, int(peak.group(1)) if peak else -1


def part_import(port: int, tokens: dict, db_url: str, folder: Path, n: int) -> dict:
    path = folder / "prompts.jsonl"
    size = write_prompts(path, n)
    stop = threading.Event()
    round_ms, errors = [], Counter()
    threads = [
        threading.Thread(target=rater_loop, args=(port, tokens[f"rater{r}"], stop, round_ms, errors)) for r in (2, 3)
    ]
    for t in threads:
        t.start()
    time.sleep(0.5)
    seconds, code, _ = run_import(db_url, path)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    path.unlink()
    return {
        "prompts": n,
        "file_mb": size / 1e6,
        "import_seconds": seconds,
        "exit_code": code,
        "next_submit": _summary(round_ms),
        "rater_errors": dict(errors),
    }


def part_big_import(db_url: str, folder: Path, n: int) -> dict:
    path = folder / "big.jsonl"
    size = write_prompts(path, n)
    seconds, code, peak_kb = run_import(db_url, path)
    path.unlink()
    return {
        "prompts": n,
        "file_mb": size / 1e6,
        "import_seconds": seconds,
        "exit_code": code,
        "peak_rss_mb": peak_kb / 1024,
    }


def part_logins(port: int, guesses: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    page = conn.getresponse()
    body = page.read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    cookie = page.getheader("set-cookie").split(";", 1)[0]
    names = ["victim", "ada", "vera", "rater0", "admin", "root"]
    checked = refused = 0
    for i in range(guesses):
        spoofed = f"{(i * 7) % 223 + 1}.{i % 250}.{(i * 13) % 250}.{i % 200 + 1}"
        form = f"username={names[i % len(names)]}&password=guess-{i}&csrf={csrf}"
        conn.request(
            "POST",
            "/login",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "X-Forwarded-For": spoofed,
            },
        )
        response = conn.getresponse()
        response.read()
        if response.status == 429:
            refused += 1
        else:
            checked += 1
    return {"guesses": guesses, "password_checks": checked, "refused_429": refused}


def victim_logs_in(db_url: str) -> bool:
    """The victim from her own address and browser (a known-device cookie from an earlier login)."""
    from hitl.service import Service

    service = Service(open_store(db_url))
    try:
        user, _ = service.login("victim", PASSWORD, "192.0.2.50")
        return user.name == "victim"
    except Exception as exc:  # reported, not raised: the benchmark's answer is yes or no
        print(f"victim login failed: {exc}", file=sys.stderr)
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="Length of the abuse part [10].")
    parser.add_argument("--items", type=int, default=20_000, help="Items in the rated campaign [20000].")
    parser.add_argument("--battles", type=int, default=500, help="Counted arena battles [500].")
    parser.add_argument("--prompts", type=int, default=400_000, help="Prompts imported while raters work [400000].")
    parser.add_argument("--big-prompts", type=int, default=2_000_000, help="Prompts of the memory check (0: skip).")
    parser.add_argument("--guesses", type=int, default=1000, help="Password guesses of the login part [1000].")
    parser.add_argument("--out", default="bench-results/abuse.json")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="hitl-bench-abuse-"))
    db_url = f"sqlite:///{folder / 'hitl.db'}"
    store = open_store(db_url)
    tokens = seed(store, args.items, args.battles)
    store.close()
    port = free_port()
    proc = start_server(db_url, port, folder / "server.log")
    results: dict = {"machine_cores": __import__("os").cpu_count()}
    try:
        results["abuse"] = part_abuse(port, tokens, args.seconds)
        results["import"] = part_import(port, tokens, db_url, folder, args.prompts)
        results["logins"] = part_logins(port, args.guesses)
    finally:
        stop_server(proc)
    results["logins"]["victim_logs_in"] = victim_logs_in(db_url)
    if args.big_prompts:
        results["big_import"] = part_big_import(f"sqlite:///{folder / 'big.db'}", folder, args.big_prompts)
    shutil.rmtree(folder, ignore_errors=True)

    a, imp, lg = results["abuse"], results["import"], results["logins"]
    rows = [
        ("/api/v1/me p95 under abuse", f"{a['me']['p95_ms']:.0f} ms", f"< {TARGET_MS:.0f} ms"),
        ("next+submit p95 under abuse", f"{a['next_submit']['p95_ms']:.0f} ms", f"< {TARGET_MS:.0f} ms"),
        (
            f"next+submit p95 during a {imp['prompts']:,}-prompt import",
            f"{imp['next_submit']['p95_ms']:.0f} ms",
            f"< {TARGET_MS:.0f} ms",
        ),
        (
            "import time / rater errors",
            f"{imp['import_seconds']:.1f} s / {sum(imp['rater_errors'].values())}",
            "0 errors",
        ),
        ("login guesses checked of 1000", f"{lg['password_checks']}", "a handful"),
        ("victim still logs in", str(lg["victim_logs_in"]), "True"),
    ]
    if "big_import" in results:
        b = results["big_import"]
        rows.append(
            (
                f"peak RSS, {b['prompts']:,}-prompt import ({b['file_mb']:.0f} MB)",
                f"{b['peak_rss_mb']:.0f} MB",
                "bounded (was 1.6 GB)",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'measured':>14}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>14}  {target}")
    print(f"abusers' answers: {a['abuser_statuses']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
