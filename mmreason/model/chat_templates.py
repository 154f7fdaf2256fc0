"""Chat templates.

`QWEN_2_5` renders LLaVA-NeXT's `qwen_2_5` conversation (`SeparatorStyle.CHATML`, as MAmmoTH-VL trains it):

    <|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n
    <|im_start|>user\\n<image>\\nWhat is shown?<|im_end|>\\n
    <|im_start|>assistant\\nA cat.<|im_end|>\\n

* The system turn defaults to MAmmoTH-VL's training prompt "You are a helpful assistant."; pass
  `default_system_message=...` to `apply_chat_template` (e.g. `QWEN_EVAL_SYSTEM`, the prompt of LLaVA-NeXT's
  eval-time `conv_qwen_2_5`) or give a system message to change it.
* Content may be a string (placeholders such as `<image>` written inline, as in LLaVA JSON) or a list of parts:
  an image part renders `<image>\\n`, a video part `<video>\\n`, a text part its text, a bare string itself, in
  order. So `[{"type": "image"}, {"type": "text", "text": "Q"}]` gives `<image>\\nQ`, LLaVA's single-image prompt.
* Anything else is an error, never a silent rendering: content that is neither a string nor a list (a dict,
  `None`), a text part whose `text` is not a string (`None` would otherwise render as the word "None", in an
  assistant turn a training target), a part of unknown or missing type. The template raises a `TemplateError`,
  [`check_messages`] (what the SFT collator calls) a [`ChatContentError`] with the same message.
* Assistant output (content + `<|im_end|>\\n`) is wrapped in `{% generation %}` markers: TRL's
  `assistant_only_loss=True` and the collator's `label_mode="assistant_only"` supervise exactly that. This is
  not LLaVA-NeXT's rule: its `preprocess_qwen` also supervises each assistant header `<|im_start|>assistant\\n`
  and every `\\n`, `<|im_start|>` and `<|im_end|>` of the prompt; the collator's `label_mode="llava_next"`
  reproduces it (see `mmreason.train.collator`). Image/video placeholders are never supervised.

`PLAIN` is LLaVA's `plain` template for projector pre-training: the image placeholders of the user turn followed
directly by the caption and a newline, no roles and no system prompt (user text is not rendered, as in LLaVA).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

QWEN_TRAIN_SYSTEM = "You are a helpful assistant."
QWEN_EVAL_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


class ChatContentError(ValueError):
    """A message the chat templates cannot render faithfully (the template itself raises `TemplateError`)."""


# The error messages, shared by the jinja templates and `check_messages` ("{m}": message index, "{p}": part index).
_NOT_A_MESSAGE = "message {m}: a message must be a mapping with a string 'role' and a 'content'"
_BAD_CONTENT = "message {m}: content must be a string or a list of parts (got a mapping, None or a scalar)"
_BAD_TEXT = "message {m}, part {p}: a text part needs a string 'text' (got None or a non-string)"
_BAD_PART = "message {m}, part {p}: not a text, image or video part (parts are strings or dicts with a 'type')"


def _raise(message: str) -> str:
    """A jinja `raise_exception` call with `message` (indices filled from the `m`/`p` template variables)."""
    escaped = message.replace("\\", "\\\\").replace("'", "\\'")
    literal = "'" + escaped.replace("{m}", "' ~ m ~ '").replace("{p}", "' ~ p ~ '") + "'"
    return "{{- raise_exception(" + literal + ") -}}"


def _content(image: str, video: str, text: str, bare_text: str | None = None) -> str:
    """Jinja rendering `message['content']` (a string or a list of parts), erroring on anything else.

    `image`/`video` are the jinja emitted for those parts, `text` wraps the expression `TEXT` of a text part's
    string (e.g. in generation markers) and `bare_text` the content string itself (default: as `text`).
    """
    bare = (bare_text or text).replace("TEXT", "message['content']")
    return (
        "{%- if message['content'] is string -%}" + bare + ""
        "{%- elif message['content'] is defined and message['content'] is not mapping"
        " and message['content'] is iterable and message['content'] is not none -%}"
        "{%- for part in message['content'] -%}{%- set p = loop.index0 -%}"
        "{%- if part is string -%}" + text.replace("TEXT", "part") + ""
        "{%- elif part is not mapping -%}" + _raise(_BAD_PART) + ""
        "{%- elif part['type'] == 'image' -%}" + image + ""
        "{%- elif part['type'] == 'video' -%}" + video + ""
        "{%- elif part['type'] == 'text' -%}"
        "{%- if part['text'] is string -%}" + text.replace("TEXT", "part['text']") + ""
        "{%- else -%}" + _raise(_BAD_TEXT) + "{%- endif -%}"
        "{%- else -%}" + _raise(_BAD_PART) + "{%- endif -%}"
        "{%- endfor -%}"
        "{%- else -%}" + _raise(_BAD_CONTENT) + "{%- endif -%}"
    )


_CHECK_MESSAGE = (
    "{%- set m = loop.index0 -%}"
    "{%- if message is not mapping or message['role'] is not string or message['content'] is not defined -%}"
    + _raise(_NOT_A_MESSAGE)
    + "{%- endif -%}"
)
_IMAGE, _VIDEO = "{{- '<image>\\n' -}}", "{{- '<video>\\n' -}}"
_TEXT = "{{- TEXT -}}"
_SUPERVISED = "{%- generation -%}{{- TEXT -}}{%- endgeneration -%}"

QWEN_2_5 = (
    "{%- if messages[0] is not mapping or messages[0]['role'] != 'system' -%}"
    "{{- '<|im_start|>system\\n' + (default_system_message | default('"
    + QWEN_TRAIN_SYSTEM
    + "')) + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}" + _CHECK_MESSAGE + "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['role'] == 'assistant' -%}"
    # assistant text is supervised, image/video placeholders never are (LLaVA sets them to IGNORE_INDEX)
     + _content(_IMAGE, _VIDEO, _SUPERVISED) + "{%- generation -%}{{- '<|im_end|>\\n' -}}{%- endgeneration -%}"
    "{%- else -%}" + _content(_IMAGE, _VIDEO, _TEXT) + "{{- '<|im_end|>\\n' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

PLAIN = (
    "{%- for message in messages -%}"
    + _CHECK_MESSAGE
    + "{%- if message['role'] == 'user' -%}"
    + _content("{{- '<image>' -}}", "{{- '<video>' -}}", "", "{{- '<image>' * message['content'].count('<image>') -}}")
    + "{%- elif message['role'] == 'assistant' -%}"
    "{%- generation -%}" + _content("", "", _TEXT) + "{{- '\\n' -}}{%- endgeneration -%}"
    "{%- else -%}" + _content("", "", "") + "{%- endif -%}"  # other turns render nothing, but are checked
    "{%- endfor -%}"
)

CHAT_TEMPLATES = {"qwen_2_5": QWEN_2_5, "plain": PLAIN}


def check_messages(messages: Any) -> list[dict[str, Any]]:
    """`messages` as the templates read them, or a [`ChatContentError`] for what they refuse (same rules and
    messages as the templates' own errors).

    Returns new messages whose content is a string or a list of `{"type": "text", "text": str}`, `{"type":
    "image"}` and `{"type": "video"}` parts: bare strings become text parts and other keys of a part (such as
    the `text: None` Arrow fills into image parts) are dropped.
    """
    out = []
    for m, message in enumerate(messages):
        # `apply_chat_template` drops keys whose value is None before rendering, so `content=None` is no content
        if (
            not isinstance(message, Mapping)
            or not isinstance(message.get("role"), str)
            or message.get("content") is None
        ):
            raise ChatContentError(_NOT_A_MESSAGE.format(m=m))
        content = message["content"]
        if not isinstance(content, str):
            if isinstance(content, Mapping) or not hasattr(content, "__iter__"):
                raise ChatContentError(_BAD_CONTENT.format(m=m))
            content = [_check_part(part, m, p) for p, part in enumerate(content)]
        out.append({"role": message["role"], "content": content})
    return out


def _check_part(part: Any, m: int, p: int) -> dict[str, str]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in ("image", "video"):
        return {"type": kind}
    if kind != "text":
        raise ChatContentError(_BAD_PART.format(m=m, p=p))
    if not isinstance(part.get("text"), str):
        raise ChatContentError(_BAD_TEXT.format(m=m, p=p))
    return {"type": "text", "text": part["text"]}


__all__ = [
    "CHAT_TEMPLATES",
    "PLAIN",
    "QWEN_2_5",
    "QWEN_EVAL_SYSTEM",
    "QWEN_TRAIN_SYSTEM",
    "ChatContentError",
    "check_messages",
]
