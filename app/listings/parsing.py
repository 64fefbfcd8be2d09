"""Reading and checking a catalogue file, in a child process of its own.

A catalogue is untrusted input whose cost is not its size: an XLSX is a zip, and a 100 KB one can
unpack to gigabytes of shared strings or a million blank rows. So the file is read by a child
process (forked from a server that has this module loaded), never on the event loop: its address
space is bounded (`MemoryError` there is a clean refusal, not the API's memory), it is killed past
a time limit, at most `IMPORT_WORKERS` run at once, and it ends with the import, giving its memory
back. Before openpyxl sees an XLSX, the archive's declared sizes are checked and then its members
are inflated once to check their actual sizes against the declared ones. Every row read, blank or
not, counts toward the row limit. The child validates the rows too (the CPU-heavy part) and
sends back only the valid values and the errors."""

import io
import multiprocessing
import os
import resource
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from pydantic import ConfigDict, ValidationError

from app.core.i18n import validation_message
from app.listings import tabular
from app.listings.kinds import ACHIEVEMENT
from app.listings.schemas import AchievementCreate
from app.listings.service import check_cross_fields

# Row errors name a field by its column, as the export and the template write it.
FIELD_NAMES_ZH = {name: tabular.COLUMN_NAMES[name] for name in AchievementCreate.model_fields}


@dataclass(frozen=True)
class Limits:
    rows: int
    unpacked_bytes: int  # an XLSX's members together, declared and actual
    archive_members: int
    columns: int  # of an XLSX sheet; cells further right are not read
    memory_bytes: int  # address space the child may add to what it starts with
    seconds: float


@dataclass
class RowError:
    row: int
    field: str
    message: str

    @classmethod
    def of(cls, row: int, field_path: str, message_zh: str) -> "RowError":
        top = field_path.split(".")[0]
        label = FIELD_NAMES_ZH.get(top)
        name = f"{label}（{field_path}）" if label else field_path
        return cls(row, field_path, f"第 {row} 行：{name}{message_zh}")


@dataclass
class Parsed:
    total_rows: int  # data rows, blank ones not counted
    valid: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class Refused(Exception):
    """A file over a limit; `args` (Chinese, English) cross the process boundary as they are."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.message_zh, self.message_en = message_zh, message_en


class Unreadable(Exception):
    """Not a file of its format (openpyxl, zipfile and csv raise many types on a corrupt file)."""


class _ImportedAchievement(AchievementCreate):
    """A row as the API would take it, except that a number in a text column is its digits: Excel
    stores 320102 (地区代码) or a grant number as a number unless told otherwise."""

    model_config = ConfigDict(coerce_numbers_to_str=True)


def validate(number: int, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, list[RowError]]:
    if "__invalid__" in raw:
        return None, [RowError(number, "row", f"第 {number} 行：不是有效的 JSON 对象")]
    try:
        data = _ImportedAchievement.model_validate(tabular.normalise(raw))
    except ValidationError as exc:
        return None, [
            RowError.of(
                number,
                ".".join(str(p) for p in e["loc"]) or "row",
                "：" + validation_message(e["type"], e["msg"], "zh"),
            )
            for e in exc.errors()
        ]
    except tabular.MalformedCell as exc:
        return None, [RowError.of(number, exc.field, "：以 [ 开头的单元格应为 JSON 数组")]
    values = data.model_dump(mode="python")
    cross = check_cross_fields(ACHIEVEMENT, values)
    if cross:
        return None, [RowError.of(number, e.field, "：" + e.message_zh) for e in cross]
    return values, []


def check_archive(content: bytes, limits: Limits) -> None:
    """Refuse an XLSX whose members unpack past the limit, by their declared sizes and then by
    inflating them (without keeping the output); a member that unpacks to another size than it
    declares is refused too, as openpyxl would read it cut short or run past what was checked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise Unreadable(str(exc)) from exc
    members = archive.infolist()
    if len(members) > limits.archive_members:
        raise Refused(
            f"压缩包内文件数超过 {limits.archive_members} 个上限", "too many members in the archive"
        )
    limit_mb = limits.unpacked_bytes // (1024 * 1024)
    too_large = Refused(f"文件解压后超过 {limit_mb} MB 上限", f"unpacks to more than {limit_mb} MB")
    if sum(member.file_size for member in members) > limits.unpacked_bytes:
        raise too_large
    unpacked = 0
    for member in members:
        actual = _inflated_size(content, member, limits.unpacked_bytes - unpacked + 1)
        if actual != member.file_size:
            raise Refused(
                f"压缩包内 {member.filename[:100]} 的实际大小与声明不符",
                f"{member.filename[:100]} unpacks to another size than it declares",
            )
        unpacked += actual
        if unpacked > limits.unpacked_bytes:
            raise too_large


def _inflated_size(content: bytes, member: zipfile.ZipInfo, most: int) -> int:
    """How many bytes `member` inflates to, counting at most `most` (then it stops)."""
    header = content[member.header_offset : member.header_offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise Unreadable(f"bad local header of {member.filename[:100]}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = member.header_offset + 30 + name_length + extra_length
    data = content[start : start + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        return len(data)
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise Unreadable(f"compression {member.compress_type} is not used by XLSX")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size, chunk = 0, 1 << 20
    try:
        for offset in range(0, len(data), chunk):
            pending = data[offset : offset + chunk]
            while pending and size < most:
                size += len(inflater.decompress(pending, 1 << 20))
                pending = inflater.unconsumed_tail
            if size >= most:
                return size
    except zlib.error as exc:
        raise Unreadable(f"{member.filename[:100]}: {exc}") from exc
    return size + len(inflater.flush())


def read_rows(content: bytes, fmt: str, limits: Limits) -> Iterator[tuple[int, dict[str, Any]]]:
    """`tabular.read_rows`, refused once more rows than the limit have been read, blank or not:
    blank rows cost as much to read as full ones, and a few bytes of XLSX declare a million."""
    too_many = Refused(
        f"文件超过 {limits.rows} 行上限（空行也计入），请删除多余的空行或拆分后导入",
        f"more than {limits.rows} rows (blank ones count)",
    )
    for read, (number, cells) in enumerate(tabular.read_rows(content, fmt, max_columns=limits.columns), 1):
        if read > limits.rows:
            raise too_many
        if cells is not None:
            yield number, cells


def parse(content: bytes, fmt: str, limits: Limits) -> Parsed:
    """Check, read and validate a whole file (in the child)."""
    parsed = Parsed(total_rows=0)
    try:
        if fmt == "xlsx":
            check_archive(content, limits)
        for number, raw in read_rows(content, fmt, limits):
            parsed.total_rows += 1
            values, errors = validate(number, raw)
            if values is None:
                parsed.errors.extend(errors)
            else:
                parsed.valid.append((number, values))
    except (Refused, Unreadable, MemoryError):
        raise
    except Exception as exc:  # openpyxl/csv raise many types on a corrupt file
        raise Unreadable(f"{type(exc).__name__}: {exc}"[:300]) from exc
    return parsed


# ---------------------------------------------------------------- the child process

_FORKSERVER = multiprocessing.get_context("forkserver")
# The server every child is forked from imports this module (pydantic, openpyxl, the schemas)
# once, so a child starts in milliseconds with nothing of the API's process: no event loop, no
# connections, no memory of earlier requests.
_FORKSERVER.set_forkserver_preload([__name__])
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(workers: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(workers, threading.BoundedSemaphore(workers))


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux: no bound beyond the file and row limits
        return None


# Rows go back in pieces: unpickling 20,000 rows at once held the GIL, and with it the event loop,
# for hundreds of milliseconds; between pieces the loop runs.
_PIECE = 200


def _child(connection: Connection, content: bytes, fmt: str, limits: Limits) -> None:
    os.nice(10)  # on a busy machine the API's requests get the CPU first
    size = _address_space()
    if size is not None:
        resource.setrlimit(resource.RLIMIT_AS, (size + limits.memory_bytes, resource.RLIM_INFINITY))
    try:
        parsed = parse(content, fmt, limits)
        for start in range(0, max(len(parsed.valid), len(parsed.errors)), _PIECE):
            end = start + _PIECE
            connection.send(("rows", parsed.valid[start:end], parsed.errors[start:end]))
        result: tuple[Any, ...] = ("ok", parsed.total_rows)
    except Refused as exc:
        result = ("refused", exc.message_zh, exc.message_en)
    except MemoryError:
        result = ("memory",)
    except Unreadable as exc:
        result = ("unreadable", str(exc))
    connection.send(result)
    connection.close()


def _run(content: bytes, fmt: str, limits: Limits) -> tuple[Any, ...]:
    """In a worker thread: one child per file; its pieces of rows, then how it ended."""
    receiver, sender = _FORKSERVER.Pipe(duplex=False)
    process = _FORKSERVER.Process(target=_child, args=(sender, content, fmt, limits), daemon=True)
    process.start()
    sender.close()
    deadline = time.monotonic() + limits.seconds
    parsed = Parsed(total_rows=0)
    try:
        while receiver.poll(max(0.0, deadline - time.monotonic())):
            message = receiver.recv()
            if message[0] == "rows":
                parsed.valid.extend(message[1])
                parsed.errors.extend(message[2])
                continue
            if message[0] == "ok":
                parsed.total_rows = message[1]
                return ("ok", parsed)
            return message  # type: ignore[no-any-return]
        return ("timeout",)
    except EOFError:  # the child died (the kernel's OOM killer, a crash in C): nothing more was sent
        return ("memory",)
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()


def run_in_child(content: bytes, fmt: str, limits: Limits, workers: int) -> Parsed:
    """Blocking: call it from a worker thread (`asyncio.to_thread`), never on the event loop."""
    with _slot(workers):
        result = _run(content, fmt, limits)
    match result:
        case ("ok", parsed):
            return parsed  # type: ignore[no-any-return]
        case ("refused", message_zh, message_en):
            raise Refused(message_zh, message_en)
        case ("memory",):
            limit_mb = limits.memory_bytes // (1024 * 1024)
            raise Refused(
                f"读取文件所需内存超过 {limit_mb} MB 上限，请拆分后导入",
                f"reading the file needs more than {limit_mb} MB",
            )
        case ("timeout",):
            raise Refused(
                f"读取文件超过 {limits.seconds:g} 秒上限，请拆分后导入",
                f"reading the file took more than {limits.seconds:g} s",
            )
        case ("unreadable", reason):
            raise Unreadable(reason)
    raise AssertionError(result)
