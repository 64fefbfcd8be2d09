"""`techex import`, `techex export` and `techex expire-listings`, run as processes."""

import os
import subprocess
import sys

from openpyxl import load_workbook
from sqlalchemy import select

from app.listings.models import Achievement
from tests.conftest import PROJECT_ROOT
from tests.listings.test_import import CSV_OK


def techex(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_import_export_expire_commands(app, db, settings, owner, tmp_path):
    who = await owner("achievements")
    url = settings.database_url or ""
    good = tmp_path / "catalogue.csv"
    good.write_text(CSV_OK, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_OK + "坏行,描述,火星农业\n", encoding="utf-8")

    dry = techex("import", str(good), "--user", who.user.email, "--dry-run", database_url=url)
    assert dry.returncode == 0, dry.stderr
    assert "would import 2 of 2 rows" in dry.stderr
    rejected = techex("import", str(bad), "--user", who.user.email, database_url=url)
    assert rejected.returncode == 1 and "第 4 行" in rejected.stderr
    assert (await db.execute(select(Achievement))).scalars().all() == []

    done = techex("import", str(bad), "--user", who.user.email, "--partial", "--publish", database_url=url)
    assert done.returncode == 0, done.stderr
    assert "imported 2 of 3 rows (2 published, 1 invalid, 0 already there)" in done.stderr
    rows = (await db.execute(select(Achievement))).scalars().all()
    assert len(rows) == 2 and {r.status for r in rows} == {"published"}
    # The catalogue again, its bad row corrected: only that row is new.
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(CSV_OK + "修正后的行,描述,agriculture\n", encoding="utf-8")
    again = techex("import", str(fixed), "--user", who.user.email, database_url=url)
    assert again.returncode == 0, again.stderr
    assert "imported 1 of 3 rows (0 published, 0 invalid, 2 already there)" in again.stderr
    assert "本机构已有同名成果" in again.stderr
    assert len((await db.execute(select(Achievement))).scalars().all()) == 3

    output = tmp_path / "mine.xlsx"
    exported = techex("export", "--user", who.user.email, "--output", str(output), database_url=url)
    assert exported.returncode == 0, exported.stderr
    assert len(list(load_workbook(output).worksheets[0].iter_rows())) == 4

    expired = techex("expire-listings", database_url=url)
    assert expired.returncode == 0 and "0 achievement" in expired.stderr
    missing = techex("import", str(good), "--user", "nobody@example.cn", database_url=url)
    assert missing.returncode == 1
