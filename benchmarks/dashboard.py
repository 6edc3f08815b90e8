"""How fast the dashboard's pages answer on a home with a published warehouse (not a test).

    .venv/bin/python benchmarks/dashboard.py HOME [--runs 20]

Starts `mediarecon web` on a free loopback port, logs in as a coordinator and as the advertiser with the
most findings (two throwaway users, removed at the end), and prints each page's median and worst time
over --runs requests, after one warm-up request each.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import requests

MEDIARECON = str(Path(sys.executable).parent / "mediarecon")


def login(url: str, who: str, password: str) -> requests.Session:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(url + "/login").text).group(1)
    assert s.post(url + "/login", data={"login": who, "password": password, "csrf_token": token},
                  allow_redirects=False).status_code == 303
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    home = args.home.resolve()
    con = duckdb.connect(str(home / "warehouse" / "mediarecon.duckdb"), read_only=True)
    advertiser, = con.execute("select advertiser_id from fct_findings where advertiser_id is not null group by 1"
                              " order by count(*) desc limit 1").fetchone()
    finding, campaign = con.execute("select finding_id, campaign_id from fct_findings where evidence_line is not null"
                                    " and campaign_id is not null and advertiser_id = ? limit 1", [advertiser]).fetchone()
    month, = con.execute("select strftime(max(statement_month), '%Y-%m') from rpt_monthly_execution_statement").fetchone()
    counts = con.execute("select (select count(*) from fct_findings), (select count(*) from fct_order_line_delivery),"
                         " (select count(*) from fct_daily_volumes)").fetchone()
    con.close()
    tag, password = secrets.token_hex(3), secrets.token_urlsafe(16)
    users = {f"bench-staff-{tag}": ["--role", "coordinator"],
             f"bench-adv-{tag}": ["--role", "advertiser", "--advertiser", advertiser]}
    for login_name, role in users.items():
        subprocess.run([MEDIARECON, "users", "add", login_name, *role, "--home", str(home)], input=password + "\n",
                       text=True, check=True, capture_output=True)
    server = subprocess.Popen([MEDIARECON, "web", "--home", str(home), "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline()).group(0)
        pages = ["/", "/findings", "/findings?sort=date&order=asc", f"/findings/{finding}", "/campaigns",
                 f"/campaigns/{campaign}", f"/statement?month={month}", "/alerts", "/api/findings",
                 f"/api/findings/{finding}", f"/api/campaigns/{campaign}/delivery"]
        print(f"home {home}: {counts[0]} findings, {counts[1]} order lines, {counts[2]} daily volumes;"
              f" {args.runs} requests per page\n")
        print(f"{'page':48} {'role':11} {'median ms':>10} {'max ms':>8}")
        worst = 0.0
        for role, who in [("coordinator", f"bench-staff-{tag}"), ("advertiser", f"bench-adv-{tag}")]:
            s = login(url, who, password)
            for path in pages:
                assert s.get(url + path).status_code == 200, path  # warm-up (and the reader opened)
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    s.get(url + path)
                    times.append((time.perf_counter() - started) * 1000)
                worst = max(worst, statistics.median(times))
                print(f"{path[:48]:48} {role:11} {statistics.median(times):10.1f} {max(times):8.1f}")
        print(f"\nslowest median: {worst:.1f} ms (target: under 300 ms)")
    finally:
        server.terminate()
        server.wait(30)
        for login_name in users:
            subprocess.run([MEDIARECON, "users", "remove", login_name, "--home", str(home)], capture_output=True)


if __name__ == "__main__":
    main()
