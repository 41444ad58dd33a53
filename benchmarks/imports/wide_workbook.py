"""A small workbook whose every row has one cell in the last column (XFD), uploaded for import.

Such a file is tiny (about 36 KiB for 5,000 rows) but a reader that pads rows to their last cell
builds a 16,384-item row per line.  This uploads it to ``POST /api/v1/students/import?dry_run=true``
in-process (a migrated SQLite file, a placement office's key) and prints the answer, the time it
took and the growth of the process's peak resident memory.  Not part of the test suite.

    python -m benchmarks.imports.wide_workbook [--rows 5000]
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from app.db.engine import make_engine, make_session_factory
from app.db.models import College, EducationLevel, Role
from app.main import create_app
from app.services.auth import create_api_key, ensure_actor
from app.settings import Settings
from tests.conftest import migrate

HEADER = ["program_id", "student_no", "name"]
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def wide_workbook(rows: int) -> bytes:
    """A hand-written .xlsx: the header in row 1, then one inline string in column XFD per row."""
    header = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{name}</t></is></c>'
                     for i, name in enumerate(HEADER))
    body = "".join(f'<row r="{r}"><c r="XFD{r}" t="inlineStr"><is><t>x</t></is></c></row>'
                   for r in range(2, rows + 2))
    sheet = f'<?xml version="1.0"?><worksheet {_NS}><sheetData><row r="1">{header}</row>{body}</sheetData></worksheet>'
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook {_NS} xmlns:r="{_REL}"><sheets>'
            '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return _peak_rss_mib()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000)
    args = parser.parse_args()
    data = wide_workbook(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            college = College(name="基准测试职业技术学院", province="贵州", city="贵阳",
                              level=EducationLevel.HIGHER_VOCATIONAL)
            session.add(college)
            session.flush()
            key = create_api_key(session, ensure_actor(session, Role.PLACEMENT_OFFICE, college_id=college.id))
        app = create_app(Settings(database_url=url, rate_limit_enabled=False), engine=engine)
        with TestClient(app, raise_server_exceptions=False) as client:
            before = _current_rss_mib()
            started = time.perf_counter()
            response = client.post("/api/v1/students/import", params={"dry_run": "true"},
                                   files={"file": ("wide.xlsx", data, "application/octet-stream")},
                                   headers={"Authorization": f"Bearer {key}"})
            elapsed = time.perf_counter() - started
            growth = _peak_rss_mib() - before
        engine.dispose()
    print(f"file: {len(data) / 1024:.1f} KiB, {args.rows} rows with a cell in column XFD")
    print(f"answer: {response.status_code} {response.text[:200]}")
    print(f"time: {elapsed:.2f} s, peak RSS growth: {growth:.0f} MiB")


if __name__ == "__main__":
    main()
