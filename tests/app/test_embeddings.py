"""The embedding extra: catalogue vectors cached by digest, `chanjiao rank --embeddings`, the real model.

The cache and the command are tested with a fake embedding function (always run); the shipped
model only where the extra is installed (`make embeddings`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from app import embeddings
from app.commands import rank
from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex

ENTRIES = [
    CatalogEntry("P1", "Software Development", "write software code"),
    CatalogEntry("P2", "Nursing", "care for patients"),
]


class FakeModel:
    """Counts its calls; a text's vector is its letter counts a–z."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for k, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    out[k, ord(ch) - 97] += 1
        return out


def test_catalogue_vectors_are_computed_once_per_catalogue_and_model(tmp_path: Path) -> None:
    model = FakeModel()
    first = embeddings.catalogue_vectors(ENTRIES, model, "fake==1", tmp_path)
    again = embeddings.catalogue_vectors(ENTRIES, model, "fake==1", tmp_path)
    assert model.calls == 1 and np.array_equal(first, again)
    assert [p.name for p in tmp_path.iterdir()] == [f"{embeddings.catalogue_digest(ENTRIES, 'fake==1')}.npy"]
    # A changed entry text, or another model, is another digest: never the stale vectors.
    changed = [ENTRIES[0], CatalogEntry("P2", "Nursing", "care for patients in hospital")]
    embeddings.catalogue_vectors(changed, model, "fake==1", tmp_path)
    embeddings.catalogue_vectors(ENTRIES, model, "fake==2", tmp_path)
    assert model.calls == 3 and len(list(tmp_path.glob("*.npy"))) == 3
    # A damaged cache file is recomputed, not trusted.
    path = tmp_path / f"{embeddings.catalogue_digest(ENTRIES, 'fake==1')}.npy"
    path.write_bytes(b"not an array")
    assert np.array_equal(embeddings.catalogue_vectors(ENTRIES, model, "fake==1", tmp_path), first)
    assert model.calls == 4
    assert not list(tmp_path.glob("*.tmp"))


cli = typer.Typer()


@cli.callback()
def _root() -> None:
    """chanjiao (test)"""


rank.register(cli)

CATALOG = "code,name,description\nP1,Software Development,write software code\nP2,Nursing,care for patients\n"
NEEDS = "id,title,description,skills\nn1,Registered Nurse,care for patients in wards,\nn2,Programmer,write code,\n"


def _run(tmp_path: Path, *extra: str) -> tuple[int, str, Path]:
    (tmp_path / "c.csv").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "n.csv").write_text(NEEDS, encoding="utf-8")
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(cli, ["rank", "--catalog", str(tmp_path / "c.csv"), "--needs", str(tmp_path / "n.csv"),
                                      "--top", "2", "--out", str(out), *extra])
    return result.exit_code, result.output, out


def test_rank_with_embeddings_fuses_the_fake_model_and_caches_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = FakeModel()
    monkeypatch.setattr(embeddings, "load_embed", lambda: model)
    monkeypatch.setattr(embeddings, "model_id", lambda: "fake==1")
    monkeypatch.setattr(embeddings, "CACHE_DIR", tmp_path / "cache")
    code, output, out = _run(tmp_path, "--embeddings")
    assert code == 0, output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    firsts = {r["need_id"]: r["code"] for r in rows if r["rank"] == "1"}
    assert firsts == {"n1": "P2", "n2": "P1"}
    # The semantic term is in the scores: they differ from the lexical run's.
    lexical_dir = tmp_path / "lexical"
    lexical_dir.mkdir()
    code, output, plain = _run(lexical_dir)
    assert code == 0, output
    assert [r["score"] for r in csv.DictReader(plain.open(encoding="utf-8"))] != [r["score"] for r in rows]
    assert model.calls == 2  # the catalogue once, the needs in one chunk
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1


def test_rank_with_embeddings_says_how_to_install_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> str:
        raise embeddings.EmbeddingsUnavailable("the embedding model is not installed: run `make embeddings`")

    monkeypatch.setattr(embeddings, "model_id", missing)
    code, output, out = _run(tmp_path, "--embeddings")
    assert code == 2
    assert "make embeddings" in output and "--embeddings" in output
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.embeddings
def test_the_shipped_model_loads_offline_and_relates_meanings(tmp_path: Path) -> None:
    embed = embeddings.load_embed()
    v = embed(["registered nurse caring for patients", "nursing programme", "welding metal parts"])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.1
    sem = embeddings.semantic_index(CatalogIndex.build(ENTRIES), embed=embed, cache_dir=tmp_path)
    ranked = sem.rank_need("Caregiver", "looks after sick people")
    assert isinstance(ranked, list) and ranked[0].code == "P2"
