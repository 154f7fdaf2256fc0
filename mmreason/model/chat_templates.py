"""Chat templates.

`QWEN_2_5` renders LLaVA-NeXT's `qwen_2_5` conversation (`SeparatorStyle.CHATML`, as MAmmoTH-VL trains it):

    <|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n
    <|im_start|>user\\n<image>\\nWhat is shown?<|im_end|>\\n
    <|im_start|>assistant\\nA cat.<|im_end|>\\n

* The system turn defaults to MAmmoTH-VL's training prompt "You are a helpful assistant."; pass
  `default_system_message=...` to `apply_chat_template` (e.g. `QWEN_EVAL_SYSTEM`, the prompt of LLaVA-NeXT's
  eval-time `conv_qwen_2_5`) or give a system message to change it.
* Content may be a string (placeholders such as `<image>` written inline, as in LLaVA JSON) or a list of parts:
  an image part renders `<image>\\n`, a video part `<video>\\n`, a text part its text, in order. So
  `[{"type": "image"}, {"type": "text", "text": "Q"}]` gives `<image>\\nQ`, LLaVA's single-image prompt.
* Assistant output (content + `<|im_end|>\\n`) is wrapped in `{% generation %}` markers, so TRL's
  `assistant_only_loss=True` supervises exactly the assistant turns (LLaVA-NeXT's `preprocess_qwen` masks the
  user turns the same way, without its tokenizer-mismatch failure mode).

`PLAIN` is LLaVA's `plain` template for projector pre-training: the image placeholders of the user turn followed
directly by the caption and a newline, no roles and no system prompt.
"""

QWEN_TRAIN_SYSTEM = "You are a helpful assistant."
QWEN_EVAL_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

_RENDER_CONTENT = (
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{- '<image>\\n' -}}"
    "{%- elif part['type'] == 'video' -%}{{- '<video>\\n' -}}"
    "{%- elif part['type'] == 'text' -%}{{- part['text'] -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
)

# Assistant turns: text is supervised, image/video placeholders never are (LLaVA sets them to IGNORE_INDEX).
_RENDER_ASSISTANT = (
    "{%- if message['content'] is string -%}{%- generation -%}{{- message['content'] -}}{%- endgeneration -%}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{- '<image>\\n' -}}"
    "{%- elif part['type'] == 'video' -%}{{- '<video>\\n' -}}"
    "{%- elif part['type'] == 'text' -%}{%- generation -%}{{- part['text'] -}}{%- endgeneration -%}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
)

QWEN_2_5 = (
    "{%- if messages[0]['role'] != 'system' -%}"
    "{{- '<|im_start|>system\\n' + (default_system_message | default('"
    + QWEN_TRAIN_SYSTEM
    + "')) + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['role'] == 'assistant' -%}"
    + _RENDER_ASSISTANT
    + "{%- generation -%}{{- '<|im_end|>\\n' -}}{%- endgeneration -%}"
    "{%- else -%}" + _RENDER_CONTENT + "{{- '<|im_end|>\\n' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

PLAIN = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{%- if message['content'] is string -%}{{- '<image>' * message['content'].count('<image>') -}}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{- '<image>' -}}{%- elif part['type'] == 'video' -%}{{- '<video>' -}}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{%- generation -%}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for part in message['content'] -%}{%- if part['type'] == 'text' -%}{{- part['text'] -}}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}{{- '\\n' -}}"
    "{%- endgeneration -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
)

CHAT_TEMPLATES = {"qwen_2_5": QWEN_2_5, "plain": PLAIN}

__all__ = ["CHAT_TEMPLATES", "PLAIN", "QWEN_2_5", "QWEN_EVAL_SYSTEM", "QWEN_TRAIN_SYSTEM"]
