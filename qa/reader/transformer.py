"""An optional extractive reader on a Hugging Face question-answering model (e.g. a Vietnamese
MRC model fine-tuned from XLM-R or PhoBERT), chosen with `QA_READER_MODEL=NAME_OR_PATH`.

Loaded offline only (a local folder or the local Hugging Face cache). Spans come from the
tokenizer's offset mapping, so they index the passage text exactly like the rule reader's.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence

from qa.errors import ModelLoadError
from qa.reader.base import abstain, extracted
from qa.text import sentence_at
from qa.types import Answer, Passage

DEFAULT_ABSTAIN_THRESHOLD = 0.3  # a softmax-mass confidence; tune per model


class TransformerReader:
    def __init__(self, model: str, abstain_threshold: float | None = None,
                 max_passages: int = 3, max_answer_tokens: int = 30, max_length: int = 384):
        self.model_name = model
        self.abstain_threshold = (DEFAULT_ABSTAIN_THRESHOLD if abstain_threshold is None
                                  else abstain_threshold)
        self.max_passages = max_passages
        self.max_answer_tokens = max_answer_tokens
        self.max_length = max_length
        self._loaded = None
        self._lock = threading.Lock()

    def warm_up(self):
        with self._lock:
            if self._loaded is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from transformers import AutoModelForQuestionAnswering, AutoTokenizer

                try:
                    tok = AutoTokenizer.from_pretrained(self.model_name)
                    model = AutoModelForQuestionAnswering.from_pretrained(self.model_name)
                except Exception as e:
                    raise ModelLoadError(
                        f"Could not load reader model {self.model_name!r} offline ({e}). Set "
                        "QA_READER_MODEL to a local folder, or unset it to use the rule reader."
                    ) from e
                model.eval()
                self._loaded = (tok, model)
        return self._loaded

    def _best_span(self, question: str, text: str) -> tuple[float, int, int] | None:
        import torch

        tok, model = self.warm_up()
        enc = tok(question, text, truncation="only_second", max_length=self.max_length,
                  return_offsets_mapping=True, return_tensors="pt")
        offsets = enc.pop("offset_mapping")[0].tolist()
        seq_ids = enc.sequence_ids(0)
        with torch.no_grad():
            out = model(**{k: v for k, v in enc.items() if k in ("input_ids", "attention_mask",
                                                                  "token_type_ids")})
        start = out.start_logits[0].tolist()
        end = out.end_logits[0].tolist()
        ctx = [i for i, s in enumerate(seq_ids) if s == 1]
        if not ctx:
            return None
        best = None
        top_starts = sorted(ctx, key=lambda i: -start[i])[:20]
        top_ends = sorted(ctx, key=lambda i: -end[i])[:20]
        for i in top_starts:
            for j in top_ends:
                if j < i or j - i + 1 > self.max_answer_tokens:
                    continue
                s = start[i] + end[j]
                if best is None or s > best[0]:
                    best = (s, offsets[i][0], offsets[j][1])
        if best is None:
            return None
        # a probability-like confidence: softmax mass of the chosen start and end
        z_s = math.log(sum(math.exp(start[i] - max(start)) for i in ctx)) + max(start)
        z_e = math.log(sum(math.exp(end[i] - max(end)) for i in ctx)) + max(end)
        return math.exp(best[0] - z_s - z_e), best[1], best[2]

    def read(self, question: str, passages: Sequence[Passage]) -> Answer:
        found = []
        for pi, p in enumerate(passages[: self.max_passages]):
            span = self._best_span(question, p.text)
            if span and span[2] > span[1]:
                found.append((span[0], pi, span[1], span[2]))
        if not found:
            return abstain(question, passages, 0.0)
        conf, pi, a, b = max(found)
        if conf < self.abstain_threshold:
            return abstain(question, passages, conf)
        text = passages[pi].text
        sa, sb = sentence_at(text, a) or (a, b)
        return extracted(question, passages, pi, (a, b), (sa, max(sb, b)), conf)
