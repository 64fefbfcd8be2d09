"""Hostile catalogue files: archives that unpack past what they look like, blank rows by the
million, files that need more memory than allowed, and the server answering while one is read.
The files are built here, small; each must be refused with 422 `import_limit` naming `file`,
nothing written, and the server still serving."""

import asyncio
import io
import json
import os
import struct
import zipfile
from pathlib import Path

from openpyxl import Workbook

from app.listings import importing
from app.listings.models import Achievement
from tests.listings.conftest import counts
from tests.listings.test_import import _upload, _xlsx

SHARED_STRING = b"<si><t>a</t></si>"
SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def _with_shared_strings(count: int) -> bytes:
    """A real workbook with a shared-strings part of `count` one-letter strings, which openpyxl
    reads whole when it opens the file: 17 bytes each unpacked, a few hundredths of a byte each
    packed (a shared-strings bomb)."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["title", "description", "field"], ["标题", "描述", "农业"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", SHARED_STRINGS_TYPE + b"</Types>")
            target.writestr(member.filename, data)
        strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        target.writestr("xl/sharedStrings.xml", strings + SHARED_STRING * count + b"</sst>", compresslevel=9)
    return out.getvalue()


def _declaring(content: bytes, name: str, size: int) -> bytes:
    """`content` with the central directory claiming that member `name` unpacks to `size` bytes."""
    entry = content.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack("<H", content[entry + 28 : entry + 30])[0]
        if content[entry + 46 : entry + 46 + name_length] == name.encode():
            return content[: entry + 24] + struct.pack("<I", size) + content[entry + 28 :]
        entry = content.index(b"PK\x01\x02", entry + 4)


async def _refused(client, who, name, content, db, **form):  # type: ignore[no-untyped-def]
    before = await counts(db, Achievement)
    response = await _upload(client, who, name, content, **form)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "import_limit" and [e["field"] for e in body["errors"]] == ["file"]
    assert await counts(db, Achievement) == before
    return body["detail"]


async def test_a_shared_strings_bomb_is_refused_by_its_declared_size(client, db, owner):
    who = await owner("achievements")
    bomb = _with_shared_strings(6_200_000)  # 105 MB unpacked
    assert len(bomb) < 300 * 1024  # 400 times smaller
    for form in ({"dry_run": True}, {}):
        detail = await _refused(client, who, "目录.xlsx", bomb, db, **form)
        assert "解压后超过 100 MB 上限" in detail


async def test_a_member_that_unpacks_past_its_declared_size_is_refused(client, db, owner):
    who = await owner("achievements")
    liar = _declaring(_with_shared_strings(100_000), "xl/sharedStrings.xml", 1_000)
    assert sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(liar)).infolist()) < 100_000
    detail = await _refused(client, who, "目录.xlsx", liar, db, dry_run=True)
    assert "xl/sharedStrings.xml 的实际大小与声明不符" in detail


async def test_every_row_read_counts_toward_the_limit(client, db, owner, monkeypatch):
    """Blank rows cost as much to read as full ones: a few bytes of XLSX declare a million."""
    who = await owner("achievements")
    workbook = Workbook()
    workbook.active.append(["title", "description", "field"])
    workbook.active.append(["标题", "描述", "农业"])
    workbook.active.cell(row=1_000_000, column=1, value="第一百万行")
    out = io.BytesIO()
    workbook.save(out)
    assert len(out.getvalue()) < 10 * 1024
    detail = await _refused(client, who, "目录.xlsx", out.getvalue(), db, dry_run=True)
    assert f"文件超过 {importing.MAX_IMPORT_ROWS} 行上限（空行也计入）" in detail

    monkeypatch.setattr(importing, "MAX_IMPORT_ROWS", 5)
    row = {"title": "标题", "description": "描述", "field": "agriculture"}
    blank_lines = {
        "c.csv": ("title,description,field\n" + "\n" * 5 + "标题,描述,agriculture\n").encode(),
        "c.jsonl": ("\n" * 5 + json.dumps(row, ensure_ascii=False) + "\n").encode(),
        "c.xlsx": _xlsx([["title", "description", "field"], *[[None]] * 5, ["标题", "描述", "农业"]]),
    }
    for name, content in blank_lines.items():
        assert "超过 5 行上限" in await _refused(client, who, name, content, db, dry_run=True), name
    # Five rows read, blank or not, are within the limit.
    within = ("title,description,field\n" + "\n" * 4 + "标题,描述,agriculture\n").encode()
    response = await _upload(client, who, "c.csv", within, dry_run=True)
    assert response.status_code == 200 and response.json()["valid_rows"] == 1


async def test_a_file_that_needs_too_much_memory_is_refused_and_the_server_goes_on(
    client, db, owner, monkeypatch
):
    """The child reading the file runs out of its address space, not the server."""
    who = await owner("achievements")
    monkeypatch.setattr(importing, "IMPORT_MEMORY_BYTES", 16 * 1024 * 1024)
    # One line of 5,000,000 empty cells: 5 MB of commas, a list of 40 MB once read.
    detail = await _refused(client, who, "c.csv", b"title\n" + b"," * 5_000_000, db, dry_run=True)
    assert "读取文件所需内存超过 16 MB 上限" in detail
    response = await _upload(client, who, "c.csv", "title,description,field\n标题,描述,农业\n".encode())
    assert response.status_code == 201 and response.json()["created"] == 1


def _readers() -> list[int]:
    """Processes reading a file: children of this process's multiprocessing fork server."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    servers = set()
    for pid, parent in parents.items():
        if parent == os.getpid():
            try:
                if b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    servers.add(pid)
            except OSError:
                continue
    return [pid for pid, parent in parents.items() if parent in servers]


async def test_the_server_answers_while_a_file_is_read(client, db, owner):
    """The file is read off the event loop: while a child reads a 20,000-row catalogue, other
    requests are answered (the old code read it on the loop, and /healthz waited for it)."""
    who = await owner("achievements")
    content = "title,description,field\n" + "".join(f"成果{i},描述{i},agriculture\n" for i in range(20_000))
    upload = asyncio.create_task(_upload(client, who, "c.csv", content.encode(), dry_run=True))
    while not _readers():
        assert not upload.done(), "the file was read without a child process"
        await asyncio.sleep(0.005)
    assert (await client.get("/healthz")).status_code == 200
    assert not upload.done()  # answered while the file was still being read
    response = await upload
    assert response.status_code == 200 and response.json()["valid_rows"] == 20_000
