"""The three checkpoint formats mmreason reads and writes, and how each maps onto mmreason's names.

* `mmreason`: `model_type="mmreason"`, transformers-5 parameter names (`model.language_model.*`, ...).
* `llava_onevision`: transformers' own `LlavaOnevisionForConditionalGeneration` (what vLLM, SGLang, lmms-eval's
  `llava_hf` and stock TRL load without plugins); written in the llava-hf Hub layout (`language_model.model.*`,
  `vision_tower.vision_model.*`, ...), and read in that layout or the transformers-5 one.
* `llava_next`: LLaVA-NeXT's original releases (see `llava_next_format`).

Loading uses transformers' own `key_mapping` renaming (no hand-written state-dict loop); a load that would leave
any parameter randomly initialised, or any checkpoint tensor unused, raises instead of warning.
"""

from __future__ import annotations

import os
from typing import Any

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from .llava_next_format import (
    KEYS_FROM_LLAVA_NEXT,
    is_llava_next_config,
    language_model_config,
    llava_next_to_mmreason,
    read_config_dict,
)

FORMATS = ("mmreason", "llava_onevision", "llava_next")
PLACEHOLDER_TOKENS = ("<image>", "<video>")
HUB_KWARGS = ("cache_dir", "force_download", "proxies", "token", "local_files_only", "revision", "subfolder")

KEYS_FROM_LLAVA_ONEVISION = {
    r"^language_model\.model\.": "model.language_model.",
    r"^language_model\.lm_head\.": "lm_head.",
    r"^vision_tower\.(?:vision_model\.)?": "model.vision_tower.",
    r"^multi_modal_projector\.": "model.multi_modal_projector.",
    r"^image_newline$": "model.image_newline",
}
KEYS_TO_LLAVA_ONEVISION = {
    r"^model\.language_model\.": "language_model.model.",
    r"^lm_head\.": "language_model.lm_head.",
    r"^model\.vision_tower\.": "vision_tower.vision_model.",
    r"^model\.multi_modal_projector\.": "multi_modal_projector.",
    r"^model\.image_newline$": "image_newline",
}
# transformers may save the SigLIP tower with or without its `vision_model.` level: normalise to without
KEYS_FROM_MMREASON = {r"^model\.vision_tower\.vision_model\.": "model.vision_tower."}
KEYS_FROM = {
    "mmreason": KEYS_FROM_MMREASON,
    "llava_onevision": KEYS_FROM_LLAVA_ONEVISION,
    "llava_next": KEYS_FROM_LLAVA_NEXT,
}


def detect_format(config_dict: dict[str, Any]) -> str:
    """`"mmreason"`, `"llava_onevision"` or `"llava_next"`; `ValueError` for anything else."""
    if is_llava_next_config(config_dict):
        return "llava_next"
    model_type = config_dict.get("model_type")
    if model_type in ("mmreason", "llava_onevision"):
        return model_type
    raise ValueError(
        f"Not an mmreason, llava_onevision or LLaVA-NeXT checkpoint (model_type={model_type!r}, "
        f"architectures={config_dict.get('architectures')}, no `mm_vision_tower`)."
    )


def load_tokenizer(path: str | os.PathLike, **hub_kwargs: Any) -> PreTrainedTokenizerBase:
    """The folder's tokenizer with `<image>` and `<video>` added as special tokens where missing.

    LLaVA-NeXT releases have no placeholder tokens (they splice index -200 in); adding them appends ids after the
    tokenizer's vocabulary, inside the model's padded embedding matrix, in a fixed order, so config and processor
    agree on the ids.
    """
    # A LLaVA-NeXT folder's tokenizer is its language model's: say so, so that `AutoTokenizer` does not resolve
    # the folder's config through `AutoConfig` (which routes LLaVA-NeXT configs back here).
    config_dict = read_config_dict(path, **hub_kwargs)
    config = language_model_config(config_dict) if is_llava_next_config(config_dict) else None
    tokenizer = AutoTokenizer.from_pretrained(str(path), config=config, **hub_kwargs)
    vocab = tokenizer.get_vocab()
    missing = [token for token in PLACEHOLDER_TOKENS if token not in vocab]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing}, replace_extra_special_tokens=False)
    return tokenizer


def to_mmreason_config_dict(config_dict: dict[str, Any], path: str | os.PathLike, **hub_kwargs: Any) -> dict:
    """`MMReasonConfig` kwargs for a config dict of any supported format (`path` gives the tokenizer's ids)."""
    source = detect_format(config_dict)
    if source == "mmreason":
        return config_dict
    if source == "llava_onevision":
        return {**config_dict, "model_type": "mmreason", "architectures": ["MMReasonForConditionalGeneration"]}
    tokenizer = load_tokenizer(path, **hub_kwargs)
    image_id, video_id = tokenizer.convert_tokens_to_ids(list(PLACEHOLDER_TOKENS))
    vocab_size = config_dict.get("vocab_size")
    if vocab_size is not None and max(image_id, video_id) >= vocab_size:
        raise ValueError(
            f"The placeholder ids {image_id}, {video_id} do not fit the checkpoint's {vocab_size} embedding rows; "
            "resize the token embeddings of the converted model first."
        )
    converted = llava_next_to_mmreason(config_dict, image_id, video_id, **hub_kwargs)
    dtype = config_dict.get("dtype", config_dict.get("torch_dtype"))
    return {**converted, "model_type": "mmreason", "architectures": ["MMReasonForConditionalGeneration"],
            **({"dtype": dtype} if dtype else {})}  # fmt: skip


def check_loading_info(info: dict[str, Any], source: str, path: Any, *, allow_mismatched: bool = False) -> None:
    """Raise a `ValueError` naming the tensors if a load left parameters missing, checkpoint tensors unused or
    (unless `allow_mismatched`, i.e. the caller asked for `ignore_mismatched_sizes=True`) shapes mismatched."""
    problems = {
        "missing (would be randomly initialised)": sorted(info.get("missing_keys", [])),
        "unexpected (present in the checkpoint, unused)": sorted(info.get("unexpected_keys", [])),
        "with mismatched shapes": [] if allow_mismatched else sorted(str(x) for x in info.get("mismatched_keys", [])),
    }
    problems = {kind: keys for kind, keys in problems.items() if keys}
    if problems:
        details = "; ".join(f"{len(keys)} {kind}: {keys[:6]}{' ...' if len(keys) > 6 else ''}"
                            for kind, keys in problems.items())  # fmt: skip
        raise ValueError(f"Loading the {source} checkpoint {path} failed: {details}.")
