"""The quickstart's tokenizer: a byte-level Qwen2 BPE tokenizer whose merges are trained on the procedural set.

`mmreason.testing`'s tokenizer has no merges (one token per byte), so a rationale is 100-300 tokens and a tiny
model spends its steps learning to spell. Training Qwen2's BPE (same pre-tokenizer, same byte alphabet, same
special tokens and chat template) on the set's chat-rendered texts makes each word of its small vocabulary one
token: sequences become several times shorter while any text still encodes (unseen words fall back to bytes).
The result is an ordinary `Qwen2Tokenizer`; `save_pretrained` / `AutoTokenizer.from_pretrained` round-trip it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import Qwen2Tokenizer

from ..testing import SPECIAL_TOKENS, build_tokenizer


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512) -> Qwen2Tokenizer:
    """A `Qwen2Tokenizer` with the byte alphabet plus up to `vocab_size - 257` merges learnt from `texts`
    (chat-rendered conversations: the template's own words become tokens too), then the special tokens."""
    base = build_tokenizer()
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = base.backend_tokenizer.pre_tokenizer
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(vocab=model["vocab"], merges=merges)
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS})
    tokenizer.eos_token = base.eos_token
    tokenizer.chat_template = base.chat_template
    return tokenizer


def tokenizer_for(conversations: Iterable[list[dict]], vocab_size: int = 512) -> Qwen2Tokenizer:
    """[`train_tokenizer`] on `conversations` (canonical `messages`) rendered by the chat template they will be
    trained with."""
    base = build_tokenizer()
    return train_tokenizer((base.apply_chat_template(m, tokenize=False) for m in conversations), vocab_size)


__all__ = ["tokenizer_for", "train_tokenizer"]
