"""``chanjiao rank``: batch-rank a catalogue (majors, programs, occupations) for many needs.

CSV in, CSV out, no database.  Input files may be UTF-8 (with or without BOM) or GB18030 (what
Excel on a Chinese Windows writes); bad input stops with a message naming file, row and column.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from matching.domain import CatalogEntry

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only `chanjiao rank` itself pays for it
    from matching.scoring import CatalogIndex
    from matching.scoring.semantic import SemanticIndex

console = Console(stderr=True)

CATALOG_COLUMNS = ("code", "name", "description", "group")
NEEDS_COLUMNS = ("id", "title", "description", "skills")
OUT_COLUMNS = ("need_id", "rank", "code", "score")
PROGRESS_FROM = 200  # needs: below this a run takes well under a second, a bar would only flicker
EMBED_CHUNK = 256  # needs embedded per call of the model (bounds the needs × entries block in memory)

# Skills cells are lists: Latin and full-width separators, and the enumeration comma 、.
_SKILL_SPLIT = re.compile(r"[;,|，；、/\n]+")


class InputError(Exception):
    """Bad input file: the message names the file, row and column."""


@dataclass(frozen=True)
class Need:
    id: str
    title: str
    description: str
    skills: tuple[str, ...]


def decode(data: bytes, name: str) -> str:
    """UTF-8 (BOM optional), else GB18030; anything else is an error naming the file."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 or GB18030 text (byte {exc.start})") from exc


def read_rows(path: Path, required: Sequence[str], optional: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of the known columns, with line numbers checked."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from exc
    reader = csv.reader(io.StringIO(decode(data, name), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{name}: empty file, expected a header row {','.join((*required, *optional))}") from None
    except csv.Error as exc:
        raise InputError(f"{name} row 1: {exc}") from exc
    cols = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in cols]
    if missing:
        raise InputError(
            f"{name} row 1: missing column(s) {', '.join(missing)}; the header must contain "
            f"{','.join(required)} (optional: {','.join(optional)}), found {','.join(cols) or 'nothing'}"
        )
    dupes = sorted({c for c in cols if c and cols.count(c) > 1})
    if dupes:
        raise InputError(f"{name} row 1: column(s) {', '.join(dupes)} appear more than once")
    where = {c: cols.index(c) for c in (*required, *optional) if c in cols}
    rows: list[dict[str, str]] = []
    try:
        for line, raw in enumerate(reader, start=2):
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) > len(cols):
                raise InputError(f"{name} row {line}: {len(raw)} fields but the header has {len(cols)}")
            row = {c: (raw[i].strip() if i < len(raw) else "") for c, i in where.items()}
            row["_line"] = str(line)
            rows.append(row)
    except csv.Error as exc:
        raise InputError(f"{name} row {reader.line_num}: {exc}") from exc
    return rows


def _require(row: dict[str, str], column: str, name: str) -> str:
    value = row.get(column, "")
    if not value:
        raise InputError(f"{name} row {row['_line']}: column '{column}' is empty")
    return value


def read_catalog(path: Path) -> list[CatalogEntry]:
    rows = read_rows(path, ("code", "name"), ("description", "group"))
    seen: dict[str, str] = {}
    out = []
    for row in rows:
        code = _require(row, "code", str(path))
        if code in seen:
            raise InputError(f"{path} row {row['_line']}: column 'code' repeats {code!r} (first on row {seen[code]})")
        seen[code] = row["_line"]
        out.append(
            CatalogEntry(
                code=code,
                name=_require(row, "name", str(path)),
                description=row.get("description", ""),
                subcategory=row.get("group", ""),  # siblings for the back-off; else read from the code
            )
        )
    if not out:
        raise InputError(f"{path}: no catalogue rows after the header")
    return out


def read_needs(path: Path) -> list[Need]:
    rows = read_rows(path, ("id", "title"), ("description", "skills"))
    seen: dict[str, str] = {}
    out = []
    for row in rows:
        nid = _require(row, "id", str(path))
        if nid in seen:
            raise InputError(f"{path} row {row['_line']}: column 'id' repeats {nid!r} (first on row {seen[nid]})")
        seen[nid] = row["_line"]
        skills = tuple(s.strip() for s in _SKILL_SPLIT.split(row.get("skills", "")) if s.strip())
        out.append(Need(nid, _require(row, "title", str(path)), row.get("description", ""), skills))
    return out


FIELDS = ("title", "description", "skills")


def parse_fields(value: str) -> tuple[str, ...]:
    """The NEEDS columns to rank on: a comma-separated subset of title,description,skills."""
    fields = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    unknown = [f for f in fields if f not in FIELDS]
    if unknown or not fields:
        raise InputError(f"--fields: {', '.join(unknown) or 'nothing'} is not a list of {','.join(FIELDS)}")
    return fields


def rank_needs(
    index: CatalogIndex,
    needs: Sequence[Need],
    top: int,
    out: TextIO,
    fields: Sequence[str] = FIELDS,
    semantic: SemanticIndex | None = None,
) -> list[str]:
    """Write ranked rows for every need; return warnings for needs that could not be ranked.

    Title and description are the need's text; skills are their own term, each skill and each
    word or character n-gram of the skills field weighted by how specific it is among these needs
    (a tool, or a word such as "software", that every need lists says little).  With ``semantic``
    the needs' title and description are embedded (a chunk at a time) and the semantic similarity
    is fused in as one more named term.
    """
    from matching.scoring import Unscorable

    use = set(fields)
    specificity = index.skill_weights([n.skills for n in needs]) if "skills" in use else None

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUT_COLUMNS)
    warnings: list[str] = []
    progress = Progress(
        TextColumn("ranking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=len(needs) < PROGRESS_FROM,
        transient=True,
    )
    with progress:
        task = progress.add_task("rank", total=len(needs))
        block = None
        for k, need in enumerate(needs):
            title = need.title if "title" in use else ""
            description = need.description if "description" in use else ""
            skills = need.skills if "skills" in use else ()
            if semantic is None:
                result = index.rank_need(title, description, skills, top, need.id, specificity=specificity)
            else:
                from matching.scoring.semantic import semantic_text

                if k % EMBED_CHUNK == 0:
                    chunk = needs[k : k + EMBED_CHUNK]
                    block = semantic.similarities([
                        semantic_text(n.title if "title" in use else "", n.description if "description" in use else "")
                        for n in chunk
                    ])
                assert block is not None
                result = semantic.rank_need(
                    title, description, skills, top, need.id, specificity=specificity,
                    similarity=block[k % EMBED_CHUNK],
                )
            if isinstance(result, Unscorable):
                warnings.append(f"need {need.id!r}: not ranked, {result.reason}")
            else:
                for r in result:
                    writer.writerow((need.id, r.rank, r.code, f"{r.score:.6f}"))
            progress.advance(task)
    return warnings


def register(cli: typer.Typer) -> None:
    @cli.command("rank")
    def rank(
        catalog: Path = typer.Option(
            ..., "--catalog", help="CSV with columns code,name,description[,group] (group: siblings share one)."
        ),
        needs: Path = typer.Option(..., "--needs", help="CSV with columns id,title,description,skills."),
        top: int = typer.Option(10, "--top", min=1, help="Rows per need (fewer if the catalogue is smaller)."),
        out: Path = typer.Option(..., "--out", help="Output CSV: need_id,rank,code,score (rank 1 = best)."),
        fields: str = typer.Option(
            ",".join(FIELDS), "--fields", help="NEEDS columns to rank on, a subset of title,description,skills."
        ),
        no_lexicon: bool = typer.Option(
            False, "--no-lexicon", help="Rank without the job-title lexicon (title cleaning and affixes stay)."
        ),
        embeddings: bool = typer.Option(
            False,
            "--embeddings",
            help="Fuse in a sentence-embedding similarity (needs `make embeddings`; catalogue vectors are "
            "cached in var/embeddings).",
        ),
    ) -> None:
        """Rank catalogue entries for each need by text fit (Chinese or English); prints its timing."""
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            use = parse_fields(fields)
            entries = read_catalog(catalog)
            need_rows = read_needs(needs)
        except InputError as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        import dataclasses

        from app.data import job_title_expander
        from matching.scoring import CatalogIndex
        from matching.scoring.jobtitles import JobTitleExpander

        expander = job_title_expander()
        if no_lexicon:
            expander = JobTitleExpander(dataclasses.replace(expander.vocabulary, lexicon={}))
        try:
            index = CatalogIndex.build(entries, expander=expander)
        except ValueError as exc:
            console.print(f"[red]error:[/red] {catalog}: {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        semantic = None
        if embeddings:
            from app.embeddings import EmbeddingsUnavailable, semantic_index

            try:
                semantic = semantic_index(index)
            except EmbeddingsUnavailable as exc:
                console.print(f"[red]error:[/red] --embeddings: {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None
        try:
            built = time.perf_counter()
            with out.open("w", encoding="utf-8", newline="") as fh:
                warnings = rank_needs(index, need_rows, top, fh, use, semantic)
        except OSError as exc:
            console.print(f"[red]error:[/red] cannot write {out}: {exc.strerror}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        for w in warnings:
            console.print(f"[yellow]warning:[/yellow] {w}", highlight=False, soft_wrap=True)
        ranked = len(need_rows) - len(warnings)
        console.print(f"ranked {ranked} of {len(need_rows)} needs against {len(index.entries)} entries → {out}")
        done = time.perf_counter()
        console.print(
            f"time: {done - started:.2f} s wall ({built - started:.2f} s reading and indexing, "
            f"{done - built:.2f} s ranking), {time.process_time() - cpu_started:.2f} s CPU",
            highlight=False,
        )
