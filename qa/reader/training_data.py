"""Training rows for the neural reader, assembled from licence-clean sets only.

- `qa-train/` (shared/data): extractive QA in 13 languages with character offsets; other
  languages teach the task (cross-lingual transfer), Vietnamese rows are weighed up.
- Vietnamese fitting sets (XQuAD-vi dev, MLQA-vi dev, vi-wiki-handwritten train): questions
  with an answer string and the article that holds it; the answer is located in the paragraph
  that shares the most words with the question (distant supervision, as these sets give no
  offsets).
- Synthetic Vietnamese questions from the same sets' article texts: Vietnamese keeps the
  question word where the answer stands ("xã còn 86 hộ nghèo" / "xã còn bao nhiêu hộ nghèo?"),
  so a sentence with a number, date, person or place becomes a question by putting the
  question word in its place.

Never used: XQuAD-vi test (its articles 24-47 included), vi-wiki-handwritten test (its
paragraphs included), vietnews-20k, the seed articles and their questions.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from qa.text import TOKEN_RE, canonical, normalize, sentence_at, sentence_spans


@dataclass(frozen=True)
class QAExample:
    id: str
    source: str
    lang: str
    question: str
    context: str
    start: int | None  # answer characters context[start:end]; None: unanswerable
    end: int | None
    answers: tuple[str, ...] = ()  # every accepted answer text (for scoring)
    doc: str = ""  # the article's file name, where known

    @property
    def answerable(self) -> bool:
        return self.start is not None


def read_jsonl(path: Path) -> Iterable[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def qa_train_rows(folder: Path, limits: dict[str, int], rng: random.Random) -> list[QAExample]:
    """Rows of `qa-train/*.jsonl.gz`, at most `limits[lang]` a language (all where the
    language is missing from `limits`, none where its limit is 0)."""
    by_lang: dict[str, list[QAExample]] = {}
    for path in sorted(folder.glob("*.jsonl.gz")):
        for row in read_jsonl(path):
            ctx = normalize(row["context"])
            if row.get("answerable", True) and row.get("answers"):
                a = row["answers"][0]
                start, end = a["start"], a["start"] + len(a["text"])
                if ctx[start:end] != normalize(a["text"]):
                    continue  # offsets moved by normalization: rare, skipped
                answers = tuple(normalize(x["text"]) for x in row["answers"])
            else:
                start = end = None
                answers = ()
            by_lang.setdefault(row["lang"], []).append(QAExample(
                row["id"], row["source"], row["lang"], normalize(row["question"]), ctx,
                start, end, answers))
    out = []
    for lang, rows in sorted(by_lang.items()):
        limit = limits.get(lang, len(rows))
        rng.shuffle(rows)
        out.extend(rows[:limit])
    return out


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text)]


def _overlap(question: str, text: str) -> int:
    q = {canonical(t) for t in TOKEN_RE.findall(question)}
    return len(q & {canonical(t) for t in TOKEN_RE.findall(text)})


def locate(question: str, answer: str, text: str) -> tuple[int, int, int, int] | None:
    """(paragraph start, end, answer start, end) in `text`: the occurrence of `answer` in the
    sentence sharing most words with the question; None where the answer is not there."""
    best = None
    for pa, pb in _paragraphs(text):
        para = text[pa:pb]
        for m in re.finditer(re.escape(answer), para):
            sent = sentence_at(para, m.start()) or (m.start(), m.end())
            score = (_overlap(question, para[sent[0]:sent[1]]), _overlap(question, para))
            if best is None or score > best[0]:
                best = (score, (pa, pb, pa + m.start(), pa + m.end()))
    return best[1] if best else None


def fitting_rows(questions: Path, corpus: Path, source: str,
                 skip_docs: frozenset[str] = frozenset()) -> list[QAExample]:
    """A Vietnamese question set (shared/eval format) as examples whose context is the
    paragraph holding the answer."""
    from qa.corpus import load_corpus

    docs = {Path(d.doc_id).name: d for d in load_corpus(corpus)}
    out = []
    for row in read_jsonl(questions):
        if not row.get("answerable", True) or row.get("doc") in skip_docs:
            continue
        doc = docs.get(row["doc"])
        if doc is None:
            continue
        q = normalize(row["question"]).strip()
        answers = tuple(normalize(a).strip() for a in row["answers"])
        found = None
        for a in answers:
            if a and (found := locate(q, a, doc.text)):
                break
        if not found:
            continue
        pa, pb, a0, a1 = found
        out.append(QAExample(f"{source}:{row['id']}", source, "vi", q, doc.text[pa:pb],
                             a0 - pa, a1 - pa, answers, row["doc"]))
    return out


# --- synthetic Vietnamese questions -----------------------------------------------------

_VERB_LEAD = re.compile(r"(?:đạt|chỉ|từ|tới|đến)\s+(?=\d)", re.I)
_UNIT_WORDS = {"%": "phần trăm", "km": "km", "km2": "km2", "km²": "km²", "ha": "ha",
               "người": "người", "tuổi": "tuổi", "tấn": "tấn", "lần": "lần"}


def _question_word(kind: str, span: str) -> str | None:
    from qa.reader.question import DATE, PERSON, PLACE, QUANTITY

    low = span.lower()
    if kind == QUANTITY:
        m = re.search(r"(%|km2|km²|km|ha|người|tuổi|tấn|lần)$", low)
        return "bao nhiêu" + (f" {_UNIT_WORDS[m.group(1)]}" if m else "")
    if kind == DATE:
        for word in ("ngày", "tháng", "năm"):
            if low.startswith(word):
                return f"{word} nào"
        return "năm nào" if re.fullmatch(r"\d{4}", low) else "khi nào"
    if kind == PERSON:
        return "ai"
    if kind == PLACE:
        return "đâu"
    return None


def synthetic_rows(texts: Iterable[tuple[str, str]], rng: random.Random,
                   per_text: int = 12) -> list[QAExample]:
    """Questions made from sentences: a number, date, person or place replaced by its
    question word in place; the context is the sentence's paragraph."""
    from qa.reader.candidates import dates, numbers, people, places
    from qa.reader.question import DATE, PERSON, PLACE, QUANTITY

    finders = ((QUANTITY, numbers), (DATE, dates), (PERSON, people), (PLACE, places))
    out = []
    for name, text in texts:
        made = []
        for pa, pb in _paragraphs(text):
            para = text[pa:pb]
            for sa, sb in sentence_spans(para):
                sent = para[sa:sb]
                if not 40 <= len(sent) <= 400:
                    continue
                found = [(k, c) for k, find in finders for c in find(sent)
                         if c.strength >= (0.5 if k in (QUANTITY, DATE) else 0.7)
                         and c.end - c.start >= 2
                         and (k != QUANTITY or any(ch.isdigit() for ch in sent[c.start:c.end]))]
                if not found:
                    continue
                kind, c = rng.choice(found)
                lead = _VERB_LEAD.match(sent, c.start, c.end)  # "đạt 20.379 người": the verb
                if lead:  # stays in the question, the figure is the answer
                    c = replace(c, start=lead.end())
                span = sent[c.start:c.end]
                word = _question_word(kind, span)
                question = _as_question(sent, c.start, c.end, word) if word else None
                if question:
                    made.append(QAExample(f"synthetic:{name}:{pa + sa + c.start}", "synthetic",
                                          "vi", question, para, sa + c.start, sa + c.end,
                                          (span,), name))
        rng.shuffle(made)
        out.extend(made[:per_text])
    return out


_LEFT_OK = re.compile(r"(?:^|[\s“\"])$")  # not inside parentheses: asides, not facts
_RIGHT_OK = re.compile(r"^(?:$|[\s,.;:)”\"?!])")


def _as_question(sent: str, a: int, b: int, word: str) -> str | None:
    """The sentence (its clause, where long) with [a, b) replaced by `word`, as a question;
    None where the span is glued to other characters ("PDP-11", "−198")."""
    if not (_LEFT_OK.search(sent[:a]) and _RIGHT_OK.match(sent[b:])):
        return None
    left, right = sent[:a].rstrip(), sent[b:].lstrip()
    if len((left + " " + right).split()) > 30:  # long: keep the clause around the span
        cut = left.rfind(", ")
        if cut >= 0 and len(left[cut + 2:].split()) >= 3:
            left = left[cut + 2:]
        cut = right.find(", ")
        if cut >= 0:
            right = right[:cut]
    q = " ".join(f"{left} {word} {right}".split()).strip(" ,.;:-–\"“”")
    q = re.sub(r"\s+([,;:)])", r"\1", re.sub(r"\(\s+", "(", q))
    if len(TOKEN_RE.findall(q)) < 6:
        return None
    return q[0].upper() + q[1:] + "?"


# --- the mix ------------------------------------------------------------------------------

# qa-train rows kept a language: all English (SQuAD slice and TyDi), the Latin-script
# languages whole, a sample of the others (they teach the task, not Vietnamese)
LANGUAGE_LIMITS = {"id": 10_000, "fi": 10_000, "sw": 1_500, "ko": 1_000, "ru": 600, "ar": 400,
                   "te": 300, "bn": 113, "zh": 2_000, "zh-Hant": 1_000, "ja": 1_500}
VIETNAMESE_REPEATS = 3  # real Vietnamese questions are seen this many times an epoch
SYNTHETIC_PER_ARTICLE = 20
# held out for the learning curve and for choosing the checkpoint: whole articles
VALIDATION_XQUAD_DEV = ("20_", "21_", "22_", "23_")  # XQuAD-vi dev articles 20-23
VALIDATION_VI_WIKI = 10  # the last 10 articles of vi-wiki-handwritten train


def _doc_names(path: Path) -> list[str]:
    seen: list[str] = []
    for row in read_jsonl(path):
        if row.get("doc") and row["doc"] not in seen:
            seen.append(row["doc"])
    return seen


def _wiki_validation(wiki: Path, test_docs: frozenset[str]) -> frozenset[str]:
    docs = [d for d in _doc_names(wiki / "questions_train.jsonl") if d not in test_docs]
    return frozenset(docs[-VALIDATION_VI_WIKI:])


def _held_out_parts(data: Path,
                    validation: bool = True) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per corpus folder under `data`: (its test split's articles, its validation articles;
    none with `validation` False, the final model's training)."""
    xquad, wiki = data / "xquad-vi", data / "vi-wiki-handwritten"
    xquad_test = frozenset(_doc_names(xquad / "questions_test.jsonl"))
    wiki_test = frozenset(_doc_names(wiki / "questions_test.jsonl"))
    xquad_val = frozenset(d for d in _doc_names(xquad / "questions_dev.jsonl")
                          if d.startswith(VALIDATION_XQUAD_DEV))
    wiki_val = _wiki_validation(wiki, wiki_test)
    if not validation:
        xquad_val = wiki_val = frozenset()
    return {"xquad-vi": (xquad_test, xquad_val),
            "vi-wiki-handwritten": (wiki_test, wiki_val),
            "mlqa-vi-dev": (frozenset(), frozenset())}


def _joined(parts: dict[str, tuple[frozenset[str], frozenset[str]]]) -> dict[str, frozenset[str]]:
    return {folder: test | val for folder, (test, val) in parts.items()}


def held_out_docs(data: Path) -> dict[str, frozenset[str]]:
    """Per corpus folder under `data`, the articles no training example may be cut from, not
    even as a context without the answer: the test splits' and the validation articles."""
    return _joined(_held_out_parts(data))


def holds_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether `text` holds one of `answers` (normalized, case folded)."""
    folded = normalize(text).lower()
    return any(normalize(a).lower() in folded for a in answers)


def retrieved_negatives(examples: Sequence[QAExample], corpus: Path, index_dir: Path,
                        never: frozenset[str] = frozenset(),
                        per_question: int = 2) -> list[QAExample]:
    """Unanswerable examples for the answerable `examples`: up to `per_question` of the
    passages the engine retrieves for each question (its top 5, the passages the reader
    reads) over `corpus` (its index kept in
    `index_dir`) that hold no gold answer, are not the question's article and are none of the
    articles `never` (test splits, validation: `held_out_docs`). Training shows the network
    windows of the answer's own paragraph; these teach its no-answer score the passages it
    will really read beside the right one."""
    from qa.assistant import Assistant
    from qa.settings import Settings

    # the default engine, whatever QA_* variables say: the rows must not depend on them
    bot = Assistant(Settings(corpus=(corpus,), reader="rules", index_dir=index_dir))
    bot.update_index()
    out = []
    for ex in examples:
        gold = ex.answers or (ex.context[ex.start:ex.end],)
        kept = 0
        for j, p in enumerate(bot.search(ex.question)):
            doc = Path(p.doc_id).name
            if doc in never or doc == ex.doc or holds_answer(p.text, gold):
                continue
            out.append(QAExample(f"{ex.id}~neg{j}", ex.source + "-neg", ex.lang, ex.question,
                                 normalize(p.text), None, None, (), doc))
            kept += 1
            if kept == per_question:
                break
    return out


def corpus_negatives(real: Sequence[QAExample], data: Path, index_home: Path,
                     per_question: int = 2,
                     held: dict[str, frozenset[str]] | None = None) -> list[QAExample]:
    """`retrieved_negatives` for the Vietnamese fitting questions `real`, each over its own
    corpus under `data` (indexes in `index_home`), never from a `held_out_docs` article
    (`held`, when the caller has them already)."""
    held = held_out_docs(data) if held is None else held
    out: list[QAExample] = []
    for folder, source in (("xquad-vi", "xquad-vi-dev"), ("mlqa-vi-dev", "mlqa-vi-dev"),
                           ("vi-wiki-handwritten", "vi-wiki-train")):
        out += retrieved_negatives([ex for ex in real if ex.source == source],
                                   data / folder / "corpus", index_home / folder,
                                   held[folder], per_question)
    return out


def _write_examples(rows: Sequence[QAExample], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(asdict(ex), ensure_ascii=False) + "\n" for ex in rows),
                   encoding="utf-8")
    tmp.replace(path)


def _read_examples(path: Path) -> list[QAExample]:
    return [QAExample(**{**row, "answers": tuple(row["answers"])}) for row in read_jsonl(path)]


def assemble(data: Path, seed: int = 13, negatives_per_question: int = 0,
             index_home: Path | None = None,
             negatives_cache: Path | None = None,
             validation: bool = True) -> tuple[list[QAExample], list[QAExample], dict]:
    """The training rows, the held-out validation rows, and a summary for the manifest.

    `negatives_per_question`: also up to that many `retrieved_negatives` per Vietnamese
    training question, each once, retrieved over its own corpus with the indexes under
    `index_home` (default the repository's `.qa/fit`, where bench/fit_reader.py keeps them;
    built on first use). `negatives_cache`: a JSONL file that keeps them, written on the first
    call and read on the next, so a resumed training sees the very rows it started with.
    `validation` False: the final model's rows, once the recipe is chosen: the validation
    articles are trained on too (questions, synthetic questions, negatives), none is held out."""
    rng = random.Random(seed)
    xquad, mlqa, wiki = data / "xquad-vi", data / "mlqa-vi-dev", data / "vi-wiki-handwritten"
    # never touched: XQuAD-vi test articles, vi-wiki test paragraphs
    parts = _held_out_parts(data, validation)
    xquad_test_docs = parts["xquad-vi"][0]
    wiki_test_docs, wiki_val = parts["vi-wiki-handwritten"]
    held = _joined(parts)
    xquad_dev = fitting_rows(xquad / "questions_dev.jsonl", xquad / "corpus", "xquad-vi-dev",
                             xquad_test_docs)
    wiki_rows = fitting_rows(wiki / "questions_train.jsonl", wiki / "corpus", "vi-wiki-train",
                             wiki_test_docs)
    mlqa_rows = fitting_rows(mlqa / "questions.jsonl", mlqa / "corpus", "mlqa-vi-dev")

    val = [ex for ex in xquad_dev if ex.doc in parts["xquad-vi"][1]]
    val += [ex for ex in wiki_rows if ex.doc in wiki_val]
    val_docs = frozenset(ex.doc for ex in val)
    real = [ex for ex in xquad_dev + wiki_rows + mlqa_rows if ex.doc not in val_docs]

    from qa.corpus import load_corpus

    texts = []
    for folder, skip in ((xquad / "corpus", held["xquad-vi"] | val_docs),
                         (mlqa / "corpus", held["mlqa-vi-dev"]),
                         (wiki / "corpus", held["vi-wiki-handwritten"])):
        for doc in load_corpus(folder):
            if Path(doc.doc_id).name not in skip:
                texts.append((Path(doc.doc_id).name, doc.text))
    synthetic = synthetic_rows(texts, rng, SYNTHETIC_PER_ARTICLE)
    others = qa_train_rows(data / "qa-train", LANGUAGE_LIMITS, rng)
    repeated = [replace(ex, id=f"{ex.id}#{r}") for ex in real for r in range(VIETNAMESE_REPEATS)]
    negatives: list[QAExample] = []
    if negatives_per_question > 0 and negatives_cache is not None and negatives_cache.exists():
        negatives = _read_examples(negatives_cache)
    elif negatives_per_question > 0:
        home = Path(__file__).resolve().parents[2] / ".qa" / "fit" if index_home is None \
            else index_home
        negatives = corpus_negatives(real, data, home, negatives_per_question, held)
        if negatives_cache is not None:
            _write_examples(negatives, negatives_cache)
    train = repeated + synthetic + others + negatives
    rng.shuffle(train)
    counts: dict[str, int] = {}
    for ex in train:
        key = f"{ex.source}/{ex.lang}"
        counts[key] = counts.get(key, 0) + 1
    summary = {"counts": {"train": len(train), "validation": len(val),
                          "vietnamese_real": len(real), "vietnamese_repeats": VIETNAMESE_REPEATS,
                          "synthetic": len(synthetic), "other_languages": len(others),
                          **({"retrieved_negatives": len(negatives)} if negatives else {})},
               "by_source": dict(sorted(counts.items())),
               "validation": {"xquad-vi dev articles": list(VALIDATION_XQUAD_DEV),
                              "vi-wiki train articles": sorted(wiki_val)} if validation else
               "none: the final model, the validation articles trained on too",
               "never_used": ["xquad-vi test (articles and questions)",
                              "vi-wiki-handwritten test (paragraphs and questions)",
                              "vietnews-20k", "seeds and seed questions"],
               "language_limits": LANGUAGE_LIMITS}
    return train, val, summary
