"""Benchmark of the catalogue import against hostile and large files (issue 18, item 16;
docs/benchmarks.md).

    .venv/bin/python scripts/bench_import.py [--seconds 5]

1. Starts an embedded PostgreSQL and a Meilisearch in a temporary directory, migrates, creates a
   verified university and a member, and serves the API with `techex serve` (the production entry
   point) on 127.0.0.1.
2. Measures `/healthz` with one client in a tight keep-alive loop: first with nothing else running
   (the ceiling), then while each file below is uploaded with `dry_run=true` (and the largest
   accepted catalogue also for real): a 20,000-row XLSX catalogue (the row limit), the same as CSV,
   an XLSX whose shared strings unpack to just under the 100 MB limit, a shared-strings bomb past
   it, an XLSX declaring a million rows, and a 20 MB CSV of empty rows.
3. Reports each upload's answer and time, `/healthz` p50/p99/max during it, the server's peak
   resident memory (VmHWM from /proc) after it, and the largest resident size seen of the child
   process that read the file (sampled every 20 ms).

Everything it starts binds 127.0.0.1 and is stopped at the end.
"""

import argparse
import asyncio
import io
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from scripts.bench_listings import PASSWORD, create_member  # noqa: E402

HEADERS = [
    "标题",
    "成果简介",
    "技术领域",
    "关键词",
    "技术成熟度",
    "转化方式",
    "意向价格",
    "地区代码",
    "联系人",
]
SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def _row(n: int) -> list[object]:
    return [
        f"基准导入成果第{n}号：一种面向智能制造的在线检测方法",
        f"本成果（编号{n}）提出一种基于机器视觉与深度学习的在线缺陷检测方法，" * 4,
        "先进制造",
        "机器视觉;缺陷检测",
        n % 9 + 1,
        "转让;普通许可",
        (n % 900 + 1) * 10_000,
        "320102",
        "王老师",
    ]


def catalogue_xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("科技成果目录")
    sheet.append(HEADERS)
    for n in range(rows):
        sheet.append(_row(n))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def catalogue_csv(rows: int) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(_row(n) for n in range(rows))
    return out.getvalue().encode("utf-8-sig")


def with_shared_strings(count: int) -> bytes:
    """A one-row workbook with `count` one-letter shared strings (17 bytes each unpacked)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["title", "description", "field"])
    workbook.active.append(["标题", "描述", "农业"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", SST_TYPE + b"</Types>")
            target.writestr(member.filename, data)
        target.writestr(
            "xl/sharedStrings.xml", SST + b"<si><t>a</t></si>" * count + b"</sst>", compresslevel=9
        )
    return out.getvalue()


def million_rows_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["title", "description", "field"])
    workbook.active.append(["标题", "描述", "农业"])
    workbook.active.cell(row=1_000_000, column=1, value="第一百万行")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _status(pid: int, key: str) -> int:
    """A /proc/<pid>/status figure in KiB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


class Probe:
    """/healthz in a tight loop on one keep-alive connection, and the reading children's memory."""

    def __init__(self, base: str, server_pid: int) -> None:
        self.base, self.server_pid = base, server_pid
        self.latencies: list[float] = []
        self.child_rss_kib = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._health), threading.Thread(target=self._memory)]

    def _health(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                self.latencies.append((time.perf_counter() - started) * 1000)

    def _memory(self) -> None:
        # The fork server and the resource tracker are children too; their size is steady, and the
        # largest figure is the reading child's.
        while not self._stop.is_set():
            for pid in _descendants(self.server_pid):
                self.child_rss_kib = max(self.child_rss_kib, _status(pid, "VmRSS"))
            time.sleep(0.02)

    def __enter__(self) -> "Probe":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def summary(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return f"{len(ordered)} | {statistics.median(ordered):.1f} | {p99:.1f} | {ordered[-1]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the ceiling measurement")
    args = parser.parse_args()

    from app.core import migrate
    from app.core.embedded import EmbeddedPostgres
    from search.binary import locate
    from search.server import LocalMeilisearch, free_port

    print("building files …", flush=True)
    files = [
        ("20,000-row XLSX catalogue (row limit)", "catalogue.xlsx", catalogue_xlsx(20_000), True),
        ("20,000-row CSV catalogue (row limit)", "catalogue.csv", catalogue_csv(20_000), False),
        (
            "XLSX, shared strings 99 MB unpacked (size limit)",
            "strings.xlsx",
            with_shared_strings(6_100_000),
            False,
        ),
        ("XLSX shared-strings bomb, 105 MB unpacked", "bomb.xlsx", with_shared_strings(6_200_000), False),
        ("XLSX declaring 1,000,000 rows", "rows.xlsx", million_rows_xlsx(), False),
        (
            "20 MB CSV of empty rows",
            "empty.csv",
            b"title,description,field\n" + b"\n" * (20 * 1024 * 1024 - 30),
            False,
        ),
    ]
    with tempfile.TemporaryDirectory(prefix="techex-bench-") as scratch:
        postgres = EmbeddedPostgres(Path(scratch) / "pg", delete_on_stop=True)
        url = postgres.start()
        binary = os.environ.get("MEILI_BIN")
        meili = LocalMeilisearch(
            locate(Path(binary) if binary else None, ROOT / ".cache"),
            Path(scratch) / "meili",
            port=free_port(),
        )
        meili.start()
        server = None
        try:
            migrate.upgrade(url)
            email, _ = asyncio.run(create_member(url))
            port = free_port()
            server = subprocess.Popen(
                [str(Path(sys.executable).parent / "techex"), "serve"],
                cwd=ROOT,
                env={
                    **os.environ,
                    "DATABASE_URL": url,
                    "MEILI_URL": meili.url,
                    "MEILI_MASTER_KEY": meili.master_key,
                    "TECHEX_SECRET_KEY": secrets.token_urlsafe(32),
                    "TECHEX_LOG_LEVEL": "WARNING",
                    "PORT": str(port),
                },
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            else:
                raise SystemExit("techex serve did not start")
            token = httpx.post(
                f"{base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            ).json()
            auth = {"Authorization": f"Bearer {token['access_token']}"}
            # The first import starts the fork server (it imports the parsing modules once).
            httpx.post(
                f"{base}/api/v1/achievements/import",
                files={"file": ("warm.csv", "title\n标题\n".encode())},
                data={"dry_run": "true"},
                headers=auth,
                timeout=300,
            )
            print(f"server VmHWM after start-up and warm-up: {_status(server.pid, 'VmHWM') / 1024:.0f} MiB")
            print(
                "\n| while | answer | seconds | /healthz n | p50 ms | p99 ms | max ms "
                "| server VmHWM MiB | reading child max RSS MiB |\n"
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
            )
            with Probe(base, server.pid) as probe:
                time.sleep(args.seconds)
            print(
                f"| nothing (ceiling) | – | {args.seconds:.1f} | {probe.summary()} "
                f"| {_status(server.pid, 'VmHWM') / 1024:.0f} | – |",
                flush=True,
            )
            for label, name, content, also_real in files:
                for dry_run in (True, False) if also_real else (True,):
                    with Probe(base, server.pid) as probe:
                        started = time.perf_counter()
                        response = httpx.post(
                            f"{base}/api/v1/achievements/import",
                            files={"file": (name, content)},
                            data={"dry_run": str(dry_run).lower()},
                            headers=auth,
                            timeout=600,
                        )
                        elapsed = time.perf_counter() - started
                    body = response.json()
                    answer = f"{response.status_code} {body.get('code') or ''}".strip()
                    if response.status_code < 300:
                        answer += f" ({body['valid_rows']:,} valid, {body['created']:,} created)"
                    mode = "dry run" if dry_run else "import"
                    print(
                        f"| {label}, {len(content) / 1024 / 1024:.2f} MB, {mode} "
                        f"| {answer} | {elapsed:.1f} | {probe.summary()} "
                        f"| {_status(server.pid, 'VmHWM') / 1024:.0f} | {probe.child_rss_kib / 1024:.0f} |",
                        flush=True,
                    )
        finally:
            if server is not None:
                server.terminate()  # uvicorn waits for a request in flight, then stops
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            meili.stop()
            postgres.stop()


if __name__ == "__main__":
    main()
