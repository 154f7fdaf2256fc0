"""The quickstart's trained BPE tokenizer: an ordinary `Qwen2Tokenizer` (save / `AutoTokenizer` round trip), the
special tokens and chat template of `mmreason.testing`'s byte-level one, any text still encodes and decodes
exactly (after Qwen2's NFC normalisation, as the byte-level one and the real Qwen2 tokenizer do), and the procedural
set's conversations become several times shorter."""

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from mmreason.data import procedural
from mmreason.quickstart.tokenizer import tokenizer_for
from mmreason.testing import SPECIAL_TOKENS, build_tokenizer


@pytest.fixture(scope="module")
def rows():
    return procedural.build_splits(seed=3, n_train=40, n_test=4)["sft_train"]


@pytest.fixture(scope="module")
def trained(rows):
    return tokenizer_for(rows["messages"], vocab_size=512)


def _render(messages):
    return build_tokenizer().apply_chat_template(messages, tokenize=False)


def test_special_tokens_and_template_match_the_byte_level_tokenizer(trained):
    base = build_tokenizer()
    assert trained.eos_token == base.eos_token == "<|im_end|>"
    assert trained.chat_template == base.chat_template
    for token in SPECIAL_TOKENS:
        ids = trained.encode(token, add_special_tokens=False)
        assert len(ids) == 1 and trained.convert_ids_to_tokens(ids[0]) == token
    assert len(trained) <= 512 + len(SPECIAL_TOKENS) + 1


def test_save_and_auto_tokenizer_round_trip(trained, rows, tmp_path):
    trained.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    text = _render(rows[0]["messages"])
    assert loaded.encode(text) == trained.encode(text)
    assert loaded.decode(loaded.encode(text)) == text


def test_conversations_are_several_times_shorter(trained, rows):
    base = build_tokenizer()
    texts = [_render(m) for m in rows["messages"][:20]]
    short = sum(len(trained.encode(t)) for t in texts)
    long = sum(len(base.encode(t)) for t in texts)
    assert short * 2.5 < long, (short, long)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200))
@example(text="\uf900 caf\u0065\u0301")  # a CJK compatibility ideograph, a decomposed é
def test_any_text_encodes_and_decodes_exactly(trained, text):
    ids = trained.encode(text, add_special_tokens=False)
    assert all(0 <= i < len(trained) for i in ids)
    if not any(token in text for token in (*SPECIAL_TOKENS, "<|endoftext|>")):
        # Qwen2 tokenizers NFC-normalise their input (e.g. U+F900 decodes as its canonical U+8C48)
        assert trained.decode(ids) == unicodedata.normalize("NFC", text)
