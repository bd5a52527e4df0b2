"""The neural reader's network: the backbone's lower layers (shared with the embedder, never
trained), then upper layers and a span head trained here.

The encoder layer is written out (post-LayerNorm BERT: self-attention, then a GELU
feed-forward) instead of calling a `transformers` layer, so the reader does not depend on the
internals of one `transformers` version, and it runs the shared layers whatever their Linear
modules are (float32, or int8 after the embedder's dynamic quantization).

Inputs are one question and one context window: `<s> question </s></s> context </s>`. The head
scores every position as the answer's start and end; position 0 (`<s>`) stands for "no answer
in this window".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_PARTS = ("query", "key", "value", "attn_out", "attn_norm", "ff_in", "ff_out", "out_norm")


class EncoderLayer(nn.Module):
    """One trainable layer with the backbone's shapes."""

    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float,
                 dropout: float = 0.1):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.ff_in = nn.Linear(hidden, intermediate)
        self.ff_out = nn.Linear(intermediate, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return encoder_layer(self, h, mask, self.dropout if self.training else 0.0)


class BackboneLayer:
    """A Hugging Face `BertLayer` seen through the `EncoderLayer` names (no copy)."""

    def __init__(self, bert_layer, heads: int):
        attention = bert_layer.attention
        self.heads = heads
        self.query, self.key, self.value = (attention.self.query, attention.self.key,
                                            attention.self.value)
        self.attn_out, self.attn_norm = attention.output.dense, attention.output.LayerNorm
        self.ff_in = bert_layer.intermediate.dense
        self.ff_out, self.out_norm = bert_layer.output.dense, bert_layer.output.LayerNorm


def encoder_layer(layer, h: torch.Tensor, mask: torch.Tensor, dropout: float = 0.0):
    """`mask`: boolean [batch, 1, 1, length], True where a position may be attended to."""
    b, n, d = h.shape

    def heads(x):
        return x.view(b, n, layer.heads, d // layer.heads).transpose(1, 2)

    ctx = F.scaled_dot_product_attention(heads(layer.query(h)), heads(layer.key(h)),
                                         heads(layer.value(h)), attn_mask=mask,
                                         dropout_p=dropout)
    a = layer.attn_out(ctx.transpose(1, 2).reshape(b, n, d))
    h = layer.attn_norm(h + F.dropout(a, dropout, True) if dropout else h + a)
    f = layer.ff_out(F.gelu(layer.ff_in(h)))
    return layer.out_norm(h + F.dropout(f, dropout, True) if dropout else h + f)


def attention_mask(mask: torch.Tensor) -> torch.Tensor:
    """[batch, length] 1/0 -> the boolean mask `encoder_layer` takes."""
    return mask.bool()[:, None, None, :]


class Lower:
    """The frozen part: the backbone's embeddings and its first `k` layers."""

    def __init__(self, backbone, k: int):
        config = backbone.config
        if not 0 <= k < config.num_hidden_layers:
            raise ValueError(f"lower layers must be in [0, {config.num_hidden_layers}), not {k}")
        emb = backbone.embeddings
        self.word, self.position = emb.word_embeddings, emb.position_embeddings
        self.token_type, self.norm = emb.token_type_embeddings, emb.LayerNorm
        self.layers = [BackboneLayer(layer, config.num_attention_heads)
                       for layer in backbone.encoder.layer[:k]]
        self.k = k

    @torch.inference_mode()
    def __call__(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1])
        h = self.word(ids) + self.position(positions)[None] + self.token_type.weight[0]
        h = self.norm(h)
        m = attention_mask(mask)
        for layer in self.layers:
            h = encoder_layer(layer, h, m)
        return h


class SpanHead(nn.Module):
    """The trained part: upper layers initialised from the backbone's, and start/end scores."""

    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float, layers: int,
                 dropout: float = 0.1):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, intermediate, eps, dropout)
                                    for _ in range(layers))
        self.span = nn.Linear(hidden, 2)
        with torch.no_grad():  # BERT's initialisation, from a fixed seed: runs reproduce
            self.span.weight.normal_(0.0, 0.02, generator=torch.Generator().manual_seed(0))
            self.span.bias.zero_()

    @classmethod
    def from_backbone(cls, backbone, k: int, dropout: float = 0.1) -> SpanHead:
        c = backbone.config
        head = cls(c.hidden_size, c.num_attention_heads, c.intermediate_size, c.layer_norm_eps,
                   c.num_hidden_layers - k, dropout)
        with torch.no_grad():
            for mine, theirs in zip(head.layers, backbone.encoder.layer[k:]):
                view = BackboneLayer(theirs, c.num_attention_heads)
                for part in _PARTS:
                    source = getattr(view, part)
                    if not isinstance(source, (nn.Linear, nn.LayerNorm)):
                        raise ValueError("the upper layers are initialised from a float model")
                    getattr(mine, part).load_state_dict(source.state_dict())
        return head

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = attention_mask(mask)
        for layer in self.layers:
            h = layer(h, m)
        logits = self.span(h).float()
        logits = logits.masked_fill(~mask.bool()[..., None], -1e4)
        return logits[..., 0], logits[..., 1]
