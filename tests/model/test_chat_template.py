"""The chat templates render exactly the given text and placeholders, or fail clearly (never `None`, never a
silently dropped part); `check_messages` (the collator's path) refuses the same inputs with the same message."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.exceptions import TemplateError

from mmreason.model.chat_templates import PLAIN, QWEN_2_5, QWEN_TRAIN_SYSTEM, ChatContentError, check_messages
from mmreason.testing import build_tokenizer
from mmreason.train import MultimodalSFTCollator

TOKENIZER = build_tokenizer()


def _render(messages, template=QWEN_2_5):
    return TOKENIZER.apply_chat_template(messages, chat_template=template, tokenize=False)


def _qwen_expected(messages) -> str:
    """ChatML by hand: the default system turn unless one is given, each turn's text parts and placeholders."""
    out = (
        "" if messages and messages[0]["role"] == "system" else f"<|im_start|>system\n{QWEN_TRAIN_SYSTEM}<|im_end|>\n"
    )
    for message in messages:
        out += f"<|im_start|>{message['role']}\n{_body(message['content'])}<|im_end|>\n"
    return out


def _body(content, image="<image>\n", video="<video>\n", text=True) -> str:
    if isinstance(content, str):
        return content
    pieces = {"image": image, "video": video}
    return "".join(
        (p if text else "") if isinstance(p, str) else pieces.get(p["type"], p.get("text", "") if text else "")
        for p in content
    )


def _plain_expected(messages) -> str:
    out = ""
    for message in messages:
        content = message["content"]
        if message["role"] == "user":
            out += (
                "<image>" * content.count("<image>")
                if isinstance(content, str)
                else _body(content, "<image>", "<video>", text=False)
            )
        elif message["role"] == "assistant":
            out += _body(content, "", "") + "\n"
    return out  # fmt: skip


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ([{"type": "text", "text": None}], "a text part needs a string 'text'"),  # rendered the word "None"
        ({"type": "text", "text": "dict content"}, "content must be a string or a list"),  # silently dropped
        ([{"type": "audio"}], "not a text, image or video part"),  # silently dropped
        ([{"text": "no type"}], "not a text, image or video part"),  # silently dropped
        ([7], "not a text, image or video part"),
    ],
)
@pytest.mark.parametrize("role", ["user", "assistant"])
@pytest.mark.parametrize("template", [QWEN_2_5, PLAIN], ids=["qwen_2_5", "plain"])
def test_bad_content_is_an_error_in_both_paths(content, match, role, template):
    messages = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]
    messages[role == "assistant"] = {"role": role, "content": content}
    with pytest.raises(TemplateError, match=match):
        _render(messages, template)
    with pytest.raises(ChatContentError, match=match):
        check_messages(messages)


def test_bare_strings_render_as_text_and_are_supervised_in_assistant_turns():
    messages = [
        {"role": "user", "content": [{"type": "image"}, "What ", {"type": "text", "text": "is it?"}]},
        {"role": "assistant", "content": ["A ", {"type": "text", "text": "cat."}]},
    ]
    assert _render(messages).endswith(
        "user\n<image>\nWhat is it?<|im_end|>\n<|im_start|>assistant\nA cat.<|im_end|>\n"
    )
    out = TOKENIZER.apply_chat_template(messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    supervised = [token for token, keep in zip(out["input_ids"], out["assistant_masks"]) if keep]
    assert TOKENIZER.decode(supervised) == "A cat.<|im_end|>\n"
    assert check_messages(messages)[1]["content"] == [{"type": "text", "text": "A "}, {"type": "text", "text": "cat."}]


def test_collator_names_the_sample(tiny):
    _, processor = tiny
    row = {"id": "row-7", "images": [], "videos": [], "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Q"}]},
        {"role": "assistant", "content": [{"type": "text", "text": None}]},
    ]}  # fmt: skip
    with pytest.raises(ChatContentError, match=r"sample 'row-7': message 1, part 0: a text part needs a string"):
        MultimodalSFTCollator(processor)([row])


_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="<>"), max_size=12)
_PART = st.one_of(
    _TEXT,
    st.fixed_dictionaries({"type": st.just("text"), "text": st.one_of(_TEXT, st.none(), st.integers())}),
    st.fixed_dictionaries({"type": st.sampled_from(["image", "video"])}, optional={"text": st.none()}),
    st.fixed_dictionaries({"type": st.one_of(st.sampled_from(["audio", "Text", ""]), st.none(), st.integers())}),
    st.none(),
    st.integers(),
    st.lists(_TEXT, max_size=2),
    st.just({}),
)
_CONTENT = st.one_of(
    _TEXT,
    st.lists(_PART, max_size=4),
    st.lists(_PART.filter(lambda p: isinstance(p, (str, dict)) and p.get("type", "text") in ("text", "image", "video")
                          if isinstance(p, dict) else isinstance(p, str)), max_size=4),
    st.none(),
    st.integers(),
    st.dictionaries(st.sampled_from(["type", "text"]), _TEXT, max_size=2),
)  # fmt: skip
_MESSAGE = st.fixed_dictionaries(
    {"role": st.one_of(st.sampled_from(["system", "user", "assistant"]), st.integers())},
    optional={"content": _CONTENT},
)


@settings(max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MESSAGE, min_size=1, max_size=4), st.sampled_from(["qwen_2_5", "plain"]))
def test_fuzz_template_renders_the_given_text_or_fails_like_check_messages(messages, name):
    template = {"qwen_2_5": QWEN_2_5, "plain": PLAIN}[name]
    try:
        checked = check_messages(messages)
    except ChatContentError as error:
        with pytest.raises(TemplateError) as raised:
            _render(messages, template)
        assert str(raised.value) == str(error)
        return
    expected = (_qwen_expected if name == "qwen_2_5" else _plain_expected)(checked)
    assert _render(messages, template) == expected
    if name == "qwen_2_5":  # the supervised text is each assistant turn's text parts and its <|im_end|>\n
        out = TOKENIZER.apply_chat_template(
            messages, chat_template=template, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        supervised = TOKENIZER.decode([t for t, keep in zip(out["input_ids"], out["assistant_masks"]) if keep])
        turns = [m["content"] for m in checked if m["role"] == "assistant"]
        assert supervised == "".join(_body(c, "", "") + "<|im_end|>\n" for c in turns)
