"""The backbone's word-embedding matrix kept in its 4-bit source form.

250,037 pieces x 384 dimensions is 384 MB as float32, more than the rest of the model; kept as
the file's Q4_0 blocks it is 54 MB, and each looked-up row is dequantized on the fly to exactly
the float32 values the converted folder holds (the blocks *are* the source). Lookups are a
gather of a few hundred rows a batch, so the cost is noise next to the encoder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from embeddings.q4file import Q4_BLOCK, QK

WORD_BLOCKS = "q4_word_embeddings.npy"  # in the converted folder: the raw Q4_0 blocks


class Q4Embedding(torch.nn.Module):
    """A frozen `nn.Embedding` stand-in over Q4_0 blocks (one row = hidden / 32 blocks)."""

    def __init__(self, blocks: np.ndarray, hidden: int):
        super().__init__()
        per_row = hidden // QK
        qs = torch.from_numpy(np.ascontiguousarray(blocks["qs"])).reshape(-1, per_row, QK // 2)
        scale = torch.from_numpy(np.ascontiguousarray(blocks["d"])).reshape(-1, per_row)
        self.register_buffer("qs", qs, persistent=False)
        self.register_buffer("scale", scale, persistent=False)
        self.num_embeddings, self.embedding_dim = qs.shape[0], hidden

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        qs = self.qs[ids]
        q = torch.cat([qs & 0x0F, qs >> 4], dim=-1).to(torch.float32) - 8.0
        return (q * self.scale[ids].to(torch.float32).unsqueeze(-1)).flatten(-2)

    @property
    def weight(self) -> torch.Tensor:  # for code that asks a model for its input embeddings
        return self.forward(torch.arange(self.num_embeddings))


def save_word_blocks(blocks: np.ndarray, folder: Path) -> None:
    np.save(folder / WORD_BLOCKS, np.ascontiguousarray(blocks))


def compact_word_embeddings(model: torch.nn.Module, folder: Path | str) -> bool:
    """Swap a BertModel's float32 word embeddings for the Q4 blocks saved beside them in
    `folder`; False where the folder has none (any other model)."""
    path = Path(folder) / WORD_BLOCKS
    embeddings = getattr(model, "embeddings", None)
    if embeddings is None or not path.is_file():
        return False
    blocks = np.load(path)
    if blocks.dtype != Q4_BLOCK:
        return False
    hidden = embeddings.word_embeddings.embedding_dim
    if len(blocks) * QK != embeddings.word_embeddings.num_embeddings * hidden:
        return False
    embeddings.word_embeddings = Q4Embedding(blocks, hidden)
    return True
