"""Benchmark the plan dashboard and the leaders' overview at seed size and at province size.

    .venv/bin/python bench/pages.py [--runs 20] [--database /tmp/bench.sqlite3]

Builds a fresh SQLite database of its own (never db.sqlite3): migrate, load_plans, load_demo.
Measures each page through Django's test Client, logged in as the demo office user: the median
and p95 of --runs requests, the SQL queries of one request and the HTML size. Beside each page,
the time to serve the same bytes from Django's cache (LocMemCache) through the same middleware
and login check. Then runs generate_demo_scale (100 plans, 5,000 tasks) and measures again.
Prints a table and PASS/FAIL per target; the exit code is always 0. See bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import django_setup

ROOT = Path(__file__).resolve().parent.parent

SEED_PAGES = ["/plans/liucheng/", "/overview/", "/plans/liucheng/document/"]
PROVINCE_PAGES = [
    "/plans/liucheng/",
    "/plans/scale-050/",
    "/overview/",
    "/plans/liucheng/document/",
    "/plans/scale-050/document/",
]
# The seed-size page each province-size page is held against.
BASELINE = {
    "/plans/liucheng/": "/plans/liucheng/",
    "/plans/scale-050/": "/plans/liucheng/",
    "/overview/": "/overview/",
    "/plans/liucheng/document/": "/plans/liucheng/document/",
    "/plans/scale-050/document/": "/plans/liucheng/document/",
}
DASHBOARDS = {"/plans/liucheng/", "/plans/scale-050/"}
MAX_GROWTH = 2.0  # province-size median within 2x of the seed-size median
MAX_OVER_CACHE = 10.0  # a page within 10x of serving its bytes from the cache
MAX_HTML_BYTES = 1_000_000  # 1 MB
MIN_RUNS = 5
CACHED_URL = "__bench__/cached/<int:key>/"

PAGE_CACHE = None  # a LocMemCache, made once Django is set up
PAGE_KEYS: list[str] = []


@dataclass
class Result:
    size: str
    url: str
    error: str = ""
    median: float = 0.0  # seconds
    p95: float = 0.0
    queries: int = 0
    html_bytes: int = 0
    cached_median: float = 0.0
    cached_p95: float = 0.0
    cold: float = 0.0  # one request right after every plan's data changed (nothing cached)
    runs: int = 0

    @property
    def over_cache(self) -> float:
        return self.median / self.cached_median if self.cached_median else math.inf


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
    parser.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="seconds per page at most: a slow page gets fewer runs (never under 5)",
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench.sqlite3",
        help="SQLite file, recreated",
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed for generate_demo_scale")
    return parser.parse_args()


def set_up_django(database: Path) -> None:
    """A fresh SQLite file of its own, DEBUG off, and the URLs that serve cached bytes too."""
    django_setup.set_up_django(database)
    from django.conf import settings

    settings.ROOT_URLCONF = install_urlconf()

    from django.core.cache.backends.locmem import LocMemCache

    global PAGE_CACHE
    PAGE_CACHE = LocMemCache("bench-pages", {})  # its own, whatever settings.CACHES says


def install_urlconf() -> str:
    """The project's URLs plus one trivial view that serves stored HTML from the cache."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import include, path

    @login_required
    def cached_page(request, key: int) -> HttpResponse:
        return HttpResponse(PAGE_CACHE.get(key))

    module = types.ModuleType("bench_urls")
    module.urlpatterns = [
        path(CACHED_URL, cached_page),
        path("", include("config.urls")),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(client, url: str, runs: int, budget: float = math.inf) -> list[float]:
    """Time `runs` requests, or fewer (at least MIN_RUNS) once `budget` seconds are spent."""
    samples: list[float] = []
    while len(samples) < runs and (len(samples) < MIN_RUNS or sum(samples) < budget):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def cold_time(client, url: str) -> float:
    """One request after every plan's data version moved on, as after a liaison's save."""
    from django.db.models import F

    from plans.models import Plan

    Plan.objects.update(progress_version=F("progress_version") + 1)
    started = time.perf_counter()
    client.get(url)
    return time.perf_counter() - started


def measure(client, size: str, url: str, args: argparse.Namespace) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = Result(size, url)
    try:
        response = client.get(url)  # warm-up: template loading, first-touch caches
        if response.status_code != 200:
            result.error = f"HTTP {response.status_code}"
            return result
    except Exception as exc:  # a page still being built raises NotImplementedError
        result.error = type(exc).__name__
        return result
    html = response.content
    result.cold = cold_time(client, url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    result.queries = len(queries.captured_queries)
    result.html_bytes = len(html)
    samples = timed(client, url, args.runs, args.budget)
    result.runs = len(samples)
    result.median, result.p95 = statistics.median(samples), p95(samples)

    key = len(PAGE_KEYS)
    PAGE_KEYS.append(url)
    PAGE_CACHE.set(key, html, timeout=None)
    cached_url = "/" + CACHED_URL.replace("<int:key>", str(key))
    assert client.get(cached_url).content == html
    samples = timed(client, cached_url, args.runs)
    result.cached_median, result.cached_p95 = statistics.median(samples), p95(samples)
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_table(results: list[Result]) -> None:
    header = (
        f"{'size':<9} {'page':<28} {'runs':>4} {'median ms':>9} {'p95 ms':>8} {'queries':>7} "
        f"{'HTML bytes':>10} {'cache med':>9} {'cache p95':>9} {'x cache':>7} {'cold ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if r.error:
            print(f"{r.size:<9} {r.url:<28} not available: {r.error}")
            continue
        print(
            f"{r.size:<9} {r.url:<28} {r.runs:>4} {ms(r.median):>9} {ms(r.p95):>8} {r.queries:>7} "
            f"{r.html_bytes:>10,} {ms(r.cached_median):>9} {ms(r.cached_p95):>9} "
            f"{r.over_cache:>7.1f} {ms(r.cold):>8}"
        )


def check_targets(seed: list[Result], province: list[Result]) -> list[str]:
    lines = []

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    by_url = {r.url: r for r in seed}
    for r in province:
        base = by_url.get(BASELINE[r.url])
        if r.error or base is None or base.error:
            lines.append(f"SKIP  province {r.url} within {MAX_GROWTH:g}x of seed: not measured")
            continue
        ratio = r.median / base.median
        lines.append(
            f"{verdict(ratio <= MAX_GROWTH)}  province {r.url} within {MAX_GROWTH:g}x of seed "
            f"{base.url}: {ms(r.median)} / {ms(base.median)} ms = {ratio:.2f}x"
        )
    # The 10x target is the dashboards' (the plan page); other pages are listed for reference.
    for r in [r for r in seed + province if r.url in DASHBOARDS]:
        if r.error:
            lines.append(f"SKIP  {r.size} {r.url} within {MAX_OVER_CACHE:g}x of cache: {r.error}")
            continue
        lines.append(
            f"{verdict(r.over_cache <= MAX_OVER_CACHE)}  {r.size} {r.url} within "
            f"{MAX_OVER_CACHE:g}x of cached bytes: {ms(r.median)} / {ms(r.cached_median)} ms "
            f"= {r.over_cache:.1f}x"
        )
    for r in seed + province:
        if r.error:
            continue
        lines.append(
            f"{verdict(r.html_bytes <= MAX_HTML_BYTES)}  {r.size} {r.url} HTML under 1 MB: "
            f"{r.html_bytes:,} bytes"
        )
    return lines


def run(args: argparse.Namespace) -> None:
    set_up_django(args.database)

    import django
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"SQLite {connection.Database.sqlite_version}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, {args.runs} runs per page, "
        f"database {args.database}"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_plans", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    print(f"seed data loaded in {time.perf_counter() - started:.1f} s")

    client = Client()
    client.force_login(get_user_model().objects.get(username="office"))
    seed = [measure(client, "seed", url, args) for url in SEED_PAGES]

    call_command("generate_demo_scale", seed=args.seed)  # prints its time and counts
    province = [measure(client, "province", url, args) for url in PROVINCE_PAGES]

    print()
    print_table(seed + province)
    print()
    for line in check_targets(seed, province):
        print(line)


def main() -> int:
    args = parse_args()
    try:
        run(args)
    except Exception:
        traceback.print_exc()
        print("FAIL  the benchmark did not complete (see the traceback above)")
    return 0  # a benchmark reports; it never fails the build


if __name__ == "__main__":
    sys.exit(main())
