"""Load benchmark: the app served by gunicorn, driven by concurrent users for a bounded time.

    .venv/bin/python bench/load.py [--users 8] [--seconds 20] [--workers 4] [--threads 2]

Builds a SQLite file of its own (a copy of db.sqlite3 made with SQLite's backup API, migrated,
or with --fresh built from nothing: migrate, load_plans, load_demo; db.sqlite3 is never
written), adds one liaison account per simulated liaison (each for a department of 柳城县 with
work to report, so no two of them edit one report), collects the static files and starts
`gunicorn config.wsgi` on a free 127.0.0.1 port with the production settings (DEBUG off).

First --warmup seconds of dashboard reads that are not counted (each gunicorn worker keeps its
own cache of the dashboards and fills it on first use, as after a restart). Then three scenarios
of --seconds each, every user a process of its own with its own HTTP
session, logged in through the login form (CSRF token and all):

1. mixed: office staff and leaders read plan dashboards and the overview while liaisons open
   their half-year report and save it as a draft through the report form (POST, as a browser);
2. dashboards: every user reads dashboards and the overview;
3. healthz: every user asks /healthz/, a view that does nothing (the server's own cost);
4. healthz logged in: the same with each user's session cookie, which adds the session and
   user lookups every logged-in page pays (for comparison only).

Prints requests per second, p50 / p95 / p99 latency and errors (any status other than 2xx or
3xx, a draft save not answered with its redirect, or a failed connection) per scenario and kind
of request, and the ratio of dashboard to healthz throughput. Target: no errors, and dashboards
at least a third of healthz's throughput. The exit code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
READS = ["/plans/liucheng/", "/overview/", "/plans/panjin/", "/plans/liuzhou/", "/plans/xianyang/"]
REPORT_START = "/plans/liucheng/reports/2019-07/mine/"
# Bench accounts, in the bench's own database only.
LIAISON_PASSWORD = "Bench-liaison-2026"  # noqa: S105
READERS = [("office", "office-demo-2026"), ("leader", "leader-demo-2026")]
MIN_RATIO = 1 / 3

# Creates the liaisons the benchmark needs (run with `manage.py shell -c`; COUNT substituted).
CREATE_LIAISONS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from plans.models import Liaison
from plans.roles import Role
from reports.models import ReportingPeriod
from reports.services import expected_departments

period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
taken = set(Liaison.objects.values_list("department_id", flat=True))
free = [d for d in expected_departments(period) if d.pk not in taken]
group = Group.objects.get(name=Role.LIAISON.value)
User = get_user_model()
for i, department in enumerate(free[:COUNT]):
    user, _ = User.objects.get_or_create(username=f"bench-liaison-{i}")
    user.set_password("PASSWORD")
    user.save()
    user.groups.add(group)
    Liaison.objects.update_or_create(user=user, defaults={"department": department})
print(min(COUNT, len(free)))
"""


# -- The database and the server ----------------------------------------------------------------


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build_database(path: Path, *, fresh: bool, liaisons: int, env: dict[str, str]) -> int:
    """The bench's own SQLite file; returns how many bench liaisons it holds."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    source = ROOT / "db.sqlite3"
    if not fresh and source.exists():
        original = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        copy = sqlite3.connect(path)
        original.backup(copy)
        copy.close()
        original.close()
        print(f"copied {source} to {path}")
    manage("migrate", "--noinput", "-v0", env=env)
    if fresh or not source.exists():
        manage("load_plans", "-v0", env=env)
    manage("load_demo", "-v0", env=env)
    script = CREATE_LIAISONS.replace("COUNT", str(liaisons)).replace("PASSWORD", LIAISON_PASSWORD)
    return int(manage("shell", "-c", script, env=env).strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, *, workers: int, threads: int, env: dict[str, str], log: Path):
    command = [
        str(Path(PYTHON).parent / "gunicorn"),
        "config.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--error-logfile",
        "-",
    ]
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


# -- A browser, as far as the benchmark needs one ---------------------------------------------


class Browser:
    """One user's HTTP session: keeps cookies (secure ones too: this is plain HTTP on purpose)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None):
        """(status, headers, body); raises OSError / HTTPException on a failed connection."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        reused = self.conn.sock is not None
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            content = response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.conn.close()
            self.conn = None
            if not reused:
                raise
            # The server closed an idle keep-alive connection as we reused it: a browser
            # retries on a new connection, and so do we.
            return self.request(method, path, data)
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
            self.conn = None
        return response.status, dict(response.getheaders()), content

    def login(self, username: str, password: str) -> None:
        status, _headers, body = self.request("GET", "/accounts/login/")
        form = parse_form(body.decode(), action_suffix="/accounts/login/").fields
        form.update(username=username, password=password)
        status, headers, body = self.request("POST", "/accounts/login/", form)
        location = headers.get("Location", "")
        if status != 302 or "/accounts/login/" in location:
            raise RuntimeError(f"login as {username} failed: HTTP {status} {location}")


class FormParser(HTMLParser):
    """The fields of the first form whose action ends with `action_suffix`, as a browser sends
    them (the selected option, the textarea's text, checked boxes)."""

    def __init__(self, action_suffix: str):
        super().__init__(convert_charrefs=True)
        self.suffix = action_suffix
        self.inside = self.done = False
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}  # a select's option values
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and (a.get("action") or "").endswith(self.suffix):
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self.fields[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self.select = name
            self.fields.setdefault(name, "")
            self.options[name] = []
        elif tag == "option" and self.select:
            self.options[self.select].append(a.get("value") or "")
            if "selected" in a:
                self.fields[self.select] = a.get("value") or ""

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def parse_form(html: str, *, action_suffix: str) -> FormParser:
    parser = FormParser(action_suffix)
    parser.feed(html)
    return parser


def filled_report(form: FormParser, n: int) -> dict[str, str]:
    """The report form with every entry filled in, as a liaison saving a draft would."""
    data = dict(form.fields)
    for key in form.fields:
        if re.fullmatch(r"item-\d+-state", key):
            data[key] = "in_progress"
        elif re.fullmatch(r"item-\d+-progress", key):
            data[key] = f"第{n}次保存:已完成年度任务的一半。"
        elif re.fullmatch(r"value-\d+-value", key):
            # A yes/no deliverable is a select (its first real option); a number otherwise.
            choices = [v for v in form.options.get(key, []) if v]
            data[key] = choices[n % len(choices)] if choices else str(10 + n % 50)
    data["action"] = "save"
    return data


# -- Users ---------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    seconds: float
    ok: bool
    detail: str = ""  # what went wrong, for a failure


@dataclass
class UserPlan:
    role: str  # "reader", "liaison", "healthz" or "healthz as user"
    username: str
    password: str
    port: int
    seconds: float
    warmup: float


def timed(browser: Browser, kind: str, method: str, path: str, data=None, *, expect=None):
    start = time.perf_counter()
    try:
        status, headers, body = browser.request(method, path, data)
    except (OSError, http.client.HTTPException) as error:
        return Sample(kind, time.perf_counter() - start, False, repr(error)), None
    elapsed = time.perf_counter() - start
    ok = 200 <= status < 400 if expect is None else status == expect
    detail = "" if ok else f"{method} {path}: HTTP {status} {_errors_in(body)}"
    return Sample(kind, elapsed, ok, detail), (status, headers, body)


def _errors_in(body: bytes) -> str:
    """The first error messages a page shows, to say why a save was refused."""
    found = re.findall(
        r'class="(?:errorlist|messages?[^"]*)"[^>]*>(.{0,200})', body.decode(errors="replace"), re.S
    )
    return " | ".join(re.sub(r"<[^>]+>|\s+", " ", f).strip() for f in found[:2])


def run_user(plan: UserPlan, barrier, results) -> None:
    """One user: log in and get ready, wait for the others, then work for plan.seconds."""
    browser = Browser(plan.port)
    samples: list[Sample] = []
    report_path = ""
    try:
        if plan.role != "healthz":
            browser.login(plan.username, plan.password)  # "healthz as user" too
        if plan.role == "liaison":
            home = browser.request("GET", "/reports/")[2].decode()
            start = parse_form(home, action_suffix=REPORT_START).fields
            status, headers, _ = browser.request("POST", REPORT_START, start)
            report_path = urlsplit(headers.get("Location", "")).path
            if status != 302 or not report_path.startswith("/reports/"):
                raise RuntimeError(f"{plan.username} could not open a report: HTTP {status}")
    except Exception as error:  # reported as the user's error; the others go on
        barrier.abort()
        results.put((0.0, 0.0, [Sample("login", 0.0, False, f"{plan.username}: {error!r}")]))
        return
    try:
        barrier.wait()
    except threading.BrokenBarrierError:  # another user could not log in: nothing to measure
        results.put((0.0, 0.0, []))
        return
    # Requests during the warm-up fill each worker's caches, as on a server that has been
    # running for a while; they are made but not counted.
    began = time.monotonic() + plan.warmup
    n = 0
    while time.monotonic() < began + plan.seconds:
        n += 1
        if time.monotonic() < began:
            samples.clear()  # still warming up
        if plan.role in ("healthz", "healthz as user"):
            samples.append(timed(browser, "healthz", "GET", "/healthz/")[0])
        elif plan.role == "reader":
            path = READS[n % len(READS)]
            kind = "overview" if path == "/overview/" else "plan dashboard"
            samples.append(timed(browser, kind, "GET", path)[0])
        else:
            sample, answer = timed(browser, "report page", "GET", report_path)
            samples.append(sample)
            if answer is None or answer[0] != 200:
                continue
            data = filled_report(parse_form(answer[2].decode(), action_suffix="/edit/"), n)
            # A save answers with a redirect to the report; 200 is a refusal shown again.
            save = timed(browser, "draft save", "POST", report_path + "edit/", data, expect=302)
            samples.append(save[0])
    if time.monotonic() < began:  # nothing counted: the warm-up took all the time
        samples.clear()
    results.put((began, time.monotonic(), samples))


def run_scenario(plans: list[UserPlan]) -> tuple[dict[str, list[Sample]], float]:
    """Run every user in a process of its own; the samples by kind and the seconds measured."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(plans)), ctx.Queue()
    users = [ctx.Process(target=run_user, args=(p, barrier, results)) for p in plans]
    for user in users:
        user.start()
    outcomes = [results.get(timeout=300 + plans[0].seconds) for _ in users]
    for user in users:
        user.join(timeout=30)
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for _began, _ended, samples in outcomes:
        for sample in samples:
            by_kind[sample.kind].append(sample)
    spans = [(b, e) for b, e, _ in outcomes if e]
    window = (max(e for _, e in spans) - min(b for b, _ in spans)) if spans else 1.0
    return by_kind, window


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def summarise(scenario: str, by_kind: dict[str, list[Sample]], seconds: float) -> list[dict]:
    rows = []
    kinds = sorted(by_kind)
    if len(kinds) > 1:
        kinds.append("all")
    for kind in kinds:
        samples = by_kind[kind] if kind != "all" else [s for v in by_kind.values() for s in v]
        times = sorted(s.seconds * 1000 for s in samples)
        rows.append(
            {
                "scenario": scenario,
                "kind": kind,
                "requests": len(samples),
                "rps": len(samples) / seconds,
                "p50": percentile(times, 0.50),
                "p95": percentile(times, 0.95),
                "p99": percentile(times, 0.99),
                "errors": sum(not s.ok for s in samples),
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    header = "| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | errors |"
    print(header)
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['scenario']}: {r['kind']} | {r['requests']:,} | {r['rps']:.1f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['errors']} |"
        )


# -- Main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=8, help="concurrent users (default 8)")
    parser.add_argument("--seconds", type=float, default=20, help="per scenario (default 20)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=15,
        help="seconds of uncounted dashboard reads first, to fill each worker's cache (default 15)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (default 2)")
    parser.add_argument(
        "--database", default=str(Path(tempfile.gettempdir()) / "bench-load.sqlite3")
    )
    parser.add_argument("--fresh", action="store_true", help="build the database from nothing")
    args = parser.parse_args()
    if args.users < 2:
        parser.error("--users must be at least 2 (readers and liaisons)")

    database = Path(args.database).resolve()
    if database == (ROOT / "db.sqlite3").resolve():
        parser.error("--database must not be db.sqlite3")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + secrets.token_urlsafe(40),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_LOG_LEVEL="ERROR",
    )
    liaison_count = args.users // 2
    made = build_database(database, fresh=args.fresh, liaisons=liaison_count, env=env)
    manage("collectstatic", "--noinput", "-v0", env=env)
    port = free_port()
    log = Path(tempfile.gettempdir()) / "bench-load-gunicorn.log"
    server = start_server(port, workers=args.workers, threads=args.threads, env=env, log=log)
    print(
        f"gunicorn config.wsgi on {HOST}:{port}: {args.workers} workers x {args.threads} "
        f"threads; {args.users} users, {args.seconds:g} s per scenario; {os.cpu_count()} CPUs; "
        f"log {log}"
    )

    def plans_for(roles: list[str], seconds: float, warmup: float = 1) -> list[UserPlan]:
        plans = []
        liaison_n = reader_n = 0
        for role in roles:
            if role == "liaison":
                username, password = f"bench-liaison-{liaison_n}", LIAISON_PASSWORD
                liaison_n += 1
            elif role == "healthz":
                username, password = "", ""
            else:
                username, password = READERS[reader_n % len(READERS)]
                reader_n += 1
            plans.append(UserPlan(role, username, password, port, seconds, warmup))
        return plans

    mixed_roles = ["liaison"] * min(made, liaison_count)
    mixed_roles += ["reader"] * (args.users - len(mixed_roles))
    rows: list[dict] = []
    failures: list[str] = []
    try:
        # Each worker process keeps its own cache of the dashboards (LocMemCache): read every
        # page in every worker before measuring, as on a server that has run for a while.
        print(f"warming up for {args.warmup:g} s ...")
        run_scenario(plans_for(["reader"] * args.users, args.warmup, warmup=0))
        for name, roles in (
            ("mixed", mixed_roles),
            ("dashboards", ["reader"] * args.users),
            ("healthz", ["healthz"] * args.users),
            ("healthz logged in", ["healthz as user"] * args.users),
        ):
            by_kind, window = run_scenario(plans_for(roles, args.seconds))
            rows += summarise(name, by_kind, window)
            failures += [s.detail for samples in by_kind.values() for s in samples if not s.ok]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    print()
    print_table(rows)

    def throughput(scenario: str) -> float:
        return sum(r["rps"] for r in rows if r["scenario"] == scenario and r["kind"] != "all")

    ratio = throughput("dashboards") / (throughput("healthz") or float("inf"))
    # The same trivial view behind a login: what the session and user lookups alone cost.
    ratio_user = throughput("dashboards") / (throughput("healthz logged in") or float("inf"))
    errors = sum(r["errors"] for r in rows if r["kind"] != "all")
    print()
    print(
        f"dashboards / healthz throughput: {ratio:.2f} (target at least {MIN_RATIO:.2f}): "
        f"{'PASS' if ratio >= MIN_RATIO else 'FAIL'}"
    )
    print(f"dashboards / healthz logged in: {ratio_user:.2f} (for comparison)")
    print(f"errors: {errors} (target 0): {'PASS' if errors == 0 else 'FAIL'}")
    if errors:
        for detail in sorted(set(failures))[:5]:
            print(f"  {detail}")
        print(f"see {log} for the server's side")
    return 0 if ratio >= MIN_RATIO and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
