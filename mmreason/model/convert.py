"""Checkpoint conversion between `mmreason`, transformers' `llava_onevision` and LLaVA-NeXT formats.

`convert_checkpoint(src, dst, to=...)` auto-detects the source format and streams tensors: it plans output shards from
the safetensors headers (no data read), then reads each output shard's tensors lazily from the source shards and
writes it before the next, so peak memory is one output shard (`max_shard_size`), never two model copies. Before any
tensor is written, the renamed keys and shapes are checked against the target architecture (built on the meta
device): missing vision-tower weights, unknown tensors and shape mismatches raise with the offending names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import snapshot_download, split_torch_state_dict_into_shards
from safetensors import safe_open
from safetensors.torch import save_file
from tqdm.auto import tqdm

from .checkpoint_formats import FORMATS, KEYS_FROM, KEYS_TO_LLAVA_ONEVISION, detect_format
from .configuration_mmreason import MMReasonConfig
from .llava_next_format import KEYS_TO_LLAVA_NEXT, mmreason_to_llava_next, write_json
from .modeling_mmreason import MMReasonForConditionalGeneration
from .processing_mmreason import MMReasonProcessor

KEYS_TO = {"mmreason": {}, "llava_onevision": KEYS_TO_LLAVA_ONEVISION, "llava_next": KEYS_TO_LLAVA_NEXT}
_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}  # fmt: skip


def local_dir(path_or_repo: str | os.PathLike, **hub_kwargs: Any) -> Path:
    """A local folder for `path_or_repo` (Hub repos are fetched into, or read from, the HF cache)."""
    path = Path(path_or_repo)
    if path.is_dir():
        return path
    return Path(
        snapshot_download(
            str(path_or_repo),
            allow_patterns=["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "*.tiktoken"],
            **hub_kwargs,
        )
    )


def rename(key: str, mapping: dict[str, str]) -> str:
    """Apply every `regex -> replacement` of `mapping` in order."""
    for pattern, target in mapping.items():
        key = re.sub(pattern, target, key)
    return key


def read_headers(src: Path) -> dict[str, tuple[str, tuple[int, ...], torch.dtype]]:
    """Checkpoint tensor name -> (safetensors file, shape, dtype), from the headers only (no tensor data)."""
    index = src / "model.safetensors.index.json"
    if index.exists():
        files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    elif (src / "model.safetensors").exists():
        files = ["model.safetensors"]
    else:
        raise FileNotFoundError(f"No safetensors weights in {src} (only safetensors checkpoints are supported).")
    headers = {}
    for file in files:
        with safe_open(str(src / file), "pt") as f:
            for key in f.keys():  # noqa: SIM118 (a safetensors handle, not a dict)
                piece = f.get_slice(key)
                headers[key] = (file, tuple(piece.get_shape()), _DTYPES[piece.get_dtype()])
    return headers


def plan_tensors(src: Path, source: str, config: MMReasonConfig) -> dict[str, tuple[str, str, tuple, torch.dtype]]:
    """mmreason parameter name -> (source file, source key, shape, dtype), checked against the architecture."""
    headers = read_headers(src)
    planned = {rename(key, KEYS_FROM[source]): key for key in headers}
    with torch.device("meta"):
        expected = MMReasonForConditionalGeneration(config).state_dict()
    if config.tie_word_embeddings:
        expected.pop("lm_head.weight", None)
        planned.pop("lm_head.weight", None)
    missing = sorted(set(expected) - set(planned))
    unexpected = sorted(set(planned) - set(expected))
    if any(k.startswith("model.vision_tower.") for k in missing):
        raise ValueError(
            f"{src} has no weights for part of the vision tower (e.g. {[k for k in missing if 'vision' in k][:3]}). "
            "Some LLaVA-NeXT checkpoints load the tower from the Hub at run time; mmreason takes every weight from "
            "the checkpoint itself, so add the tower weights first."
        )
    if missing or unexpected:
        raise ValueError(f"{src} does not match the architecture: missing {missing[:6]}, unexpected {unexpected[:6]}.")
    mismatched = [
        f"{key}: checkpoint {headers[key][1]} vs model {tuple(expected[name].shape)}"
        for name, key in planned.items()
        if headers[key][1] != tuple(expected[name].shape)
    ]
    if mismatched:
        raise ValueError(f"Shape mismatch between {src} and its config: {mismatched[:6]}")
    return {name: (headers[key][0], key, *headers[key][1:]) for name, key in sorted(planned.items())}


def write_tensors(src: Path, dst: Path, plan: dict[str, tuple], to: str, max_shard_size: str) -> None:
    """Stream the planned tensors into `dst` shards (renamed for `to`), one output shard in memory at a time."""
    out_names = {rename(name, KEYS_TO[to]): (file, key) for name, (file, key, _, _) in plan.items()}
    meta = {rename(name, KEYS_TO[to]): torch.empty(shape, dtype=dtype, device="meta")
            for name, (_, _, shape, dtype) in plan.items()}  # fmt: skip
    split = split_torch_state_dict_into_shards(meta, max_shard_size=max_shard_size)
    with tqdm(total=len(out_names), desc=f"Writing {to} tensors", unit="tensor") as bar:
        for filename, names in split.filename_to_tensors.items():
            # Source files are memory-mapped; opening them per output shard unmaps the pages read so far.
            with ExitStack() as stack:
                handles: dict[str, Any] = {}
                shard = {}
                for name in names:
                    file, key = out_names[name]
                    if file not in handles:
                        handles[file] = stack.enter_context(safe_open(str(src / file), "pt"))
                    shard[name] = handles[file].get_tensor(key)
                    bar.update()
                save_file(shard, str(dst / filename), metadata={"format": "pt"})
                del shard
    if split.is_sharded:
        total = sum(t.numel() * t.element_size() for t in meta.values())
        write_json(
            dst / "model.safetensors.index.json",
            {"metadata": {**split.metadata, "total_size": total}, "weight_map": split.tensor_to_filename},
        )


def llava_onevision_config(config: MMReasonConfig) -> dict[str, Any]:
    """transformers `LlavaOnevisionConfig` dict for `config`."""
    values = config.to_dict()
    for key in ("mm_projector_type", "vision_tower_name_or_path", "auto_map"):
        values.pop(key, None)
    return {**values, "model_type": "llava_onevision", "architectures": ["LlavaOnevisionForConditionalGeneration"]}


def save_llava_onevision_processor(processor: MMReasonProcessor, dst: Path) -> None:
    """Processor files as transformers' `LlavaOnevisionProcessor` saves them (image + video processor entries)."""
    processor.tokenizer.save_pretrained(dst)
    image = processor.image_processor.to_dict()
    for key in ("max_image_pixels", "max_frames", "image_processor_type"):
        image.pop(key, None)
    video = {k: image[k] for k in ("size", "image_mean", "image_std", "do_rescale", "rescale_factor",
                                   "do_normalize", "do_convert_rgb", "resample") if k in image}  # fmt: skip
    processor_dict = {
        "processor_class": "LlavaOnevisionProcessor",
        "image_processor": {**image, "image_processor_type": "LlavaOnevisionImageProcessor"},
        "video_processor": {**video, "video_processor_type": "LlavaOnevisionVideoProcessor", "do_resize": True},
        "num_image_tokens": processor.num_image_tokens,
        "vision_feature_select_strategy": processor.vision_feature_select_strategy,
        "vision_aspect_ratio": processor.vision_aspect_ratio,
        "image_token": processor.image_token,
        "video_token": processor.video_token,
    }
    write_json(dst / "processor_config.json", processor_dict)
    (dst / "chat_template.jinja").write_text(processor.chat_template)


#: the only `vision_aspect_ratio` vLLM's LLaVA-OneVision implements (it hard-codes the max-9 downsampling)
VLLM_ASPECT_RATIO = "anyres_max_9"
#: the unpad rule of vLLM's (and transformers') LLaVA-OneVision
VLLM_UNPAD_RULE = "round"


def vllm_geometry_differences(vision_aspect_ratio: str, image_unpad_rule: str) -> list[str]:
    """How stock vLLM's LLaVA-OneVision would serve a model of this geometry differently from the model: it ignores
    `vision_aspect_ratio` (always `anyres_max_9`) and rounds the unpad crop (LLaVA-NeXT truncates)."""
    differences = []
    if vision_aspect_ratio != VLLM_ASPECT_RATIO:
        differences.append(
            f"the model uses vision_aspect_ratio={vision_aspect_ratio!r}; vLLM ignores it and always applies "
            f"{VLLM_ASPECT_RATIO!r} (large images get other image-token counts)"
        )
    if image_unpad_rule != VLLM_UNPAD_RULE:
        differences.append(
            f"the model crops anyres features with image_unpad_rule={image_unpad_rule!r} (LLaVA-NeXT's); vLLM "
            "rounds (some sizes, e.g. 47x423, get other image-token counts)"
        )
    return differences


def warn_vllm_geometry(config: MMReasonConfig) -> str | None:
    """Warn (and return the message) when stock vLLM would serve a `llava_onevision` export of `config` with another
    image geometry than the model's (see `vllm_geometry_differences`)."""
    differences = vllm_geometry_differences(config.vision_aspect_ratio, config.image_unpad_rule)
    if not differences:
        return None
    message = (
        f"{'; '.join(differences)}. So `vllm serve` on this export gives other answers than transformers or "
        "mmreason for such images. Install mmreason's vLLM plugin in vLLM's environment (`pip install -e "
        "integrations/vllm`, see integrations/vllm/README.md: it serves the export with the model's geometry), "
        "or evaluate in-process."
    )
    warnings.warn(message, UserWarning, stacklevel=2)
    return message


def add_remote_code(dst: Path) -> None:
    """Copy the model code next to the weights and point `auto_map` at it (for `trust_remote_code=True` users and
    the stock `trl` CLI, which never import mmreason)."""
    from transformers.dynamic_module_utils import custom_object_save

    config = MMReasonConfig.from_pretrained(dst)
    processor = MMReasonProcessor.from_pretrained(dst)
    classes = {
        MMReasonConfig: "AutoConfig",
        MMReasonForConditionalGeneration: "AutoModelForImageTextToText",
        MMReasonProcessor: "AutoProcessor",
        type(processor.image_processor): "AutoImageProcessor",
    }
    try:
        for cls, auto_class in classes.items():
            cls.register_for_auto_class(auto_class)
        with torch.device("meta"):  # only the class and its code files are needed, not the weights
            model = MMReasonForConditionalGeneration(config)
        custom_object_save(model, str(dst), config=config)
        config.save_pretrained(dst)
        processor.save_pretrained(dst)
    finally:  # registration is class-global: don't make every later save in this process write code files
        for cls in classes:
            cls._auto_class = None


def convert_checkpoint(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    to: str = "llava_onevision",
    *,
    max_shard_size: str = "5GB",
    remote_code: bool = False,
    **hub_kwargs: Any,
) -> Path:
    """Convert the checkpoint at `src` (folder or Hub repo, format auto-detected) into `dst` in format `to`.

    Writes sharded safetensors, config, tokenizer/processor, chat template and generation config. `remote_code=True`
    (only for `to="mmreason"`) also copies the model code and writes `auto_map`.
    """
    if to not in FORMATS:
        raise ValueError(f"Unknown target format {to!r}; choose one of {FORMATS}.")
    if remote_code and to != "mmreason":
        raise ValueError("remote_code=True only applies to the mmreason format.")
    src, dst = local_dir(src, **hub_kwargs), Path(dst)
    if dst.resolve() == src.resolve():
        raise ValueError("The destination must differ from the source.")
    source = detect_format(json.loads((src / "config.json").read_text()))
    config = MMReasonConfig.from_pretrained(src)
    processor = MMReasonProcessor.from_pretrained(src)
    plan = plan_tensors(src, source, config)
    dst.mkdir(parents=True, exist_ok=True)
    write_tensors(src, dst, plan, to, max_shard_size)
    if to == "mmreason":
        config.architectures = ["MMReasonForConditionalGeneration"]
        config.save_pretrained(dst)
        processor.save_pretrained(dst)
    elif to == "llava_onevision":
        warn_vllm_geometry(config)
        write_json(dst / "config.json", llava_onevision_config(config))
        save_llava_onevision_processor(processor, dst)
    else:
        write_json(dst / "config.json", mmreason_to_llava_next(config))
        processor.tokenizer.save_pretrained(dst)
        (dst / "chat_template.jinja").write_text(processor.chat_template)
    if (src / "generation_config.json").exists():
        shutil.copy(src / "generation_config.json", dst / "generation_config.json")
    if remote_code:
        add_remote_code(dst)
    return dst


__all__ = [
    "VLLM_ASPECT_RATIO", "VLLM_UNPAD_RULE", "convert_checkpoint", "local_dir", "plan_tensors",
    "vllm_geometry_differences", "warn_vllm_geometry", "write_tensors",
]  # fmt: skip
