"""The mmreason MLLM: LLaVA-OneVision's architecture under the `mmreason` model type.

`MMReasonModel` (vision tower -> `mlp2x_gelu` projector -> language model, anyres packing with spatial unpad,
`anyres_max_N` downsampling, `image_newline`, 2x2-pooled video frames) and `MMReasonForConditionalGeneration`
(+ LM head, `GenerationMixin`) are subclasses of transformers' LLaVA-OneVision classes: the numerics are the
maintained upstream code, registered under our own config so that our processor, defaults and checkpoint
conversions apply, except the anyres feature packing, which follows LLaVA-NeXT's unpad rule (`anyres`; transformers
rounds the unpad scale and keeps more features for a few sizes, e.g. 47x423). Both backbones are built with
`AutoModel.from_config`, so any HF vision encoder and any HF causal LM compose.

TRL's training contract holds by construction: `base_model_prefix = "model"`, so `model.base_model` is the
`MMReasonModel` backbone; it accepts every processor output (`pixel_values`, `image_sizes`, `batch_num_images`,
`pixel_values_videos`, ...) and returns `.last_hidden_state`; `get_output_embeddings()` is the `lm_head`
`nn.Linear` that TRL's fused LM head reads.
"""

import functools
import inspect
from typing import Any

import torch
from torch import nn
from transformers.models.llava_onevision.modeling_llava_onevision import (
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionModel,
    LlavaOnevisionPreTrainedModel,
)

from .anyres import anyres_layout, unpad_crop
from .configuration_mmreason import MMReasonConfig, parse_anyres_max

UNUSED_VISION_MODULES = ("post_layernorm", "head")
#: The stock backbone's forward signature (its argument names change between transformers versions).
_STOCK_FORWARD = inspect.signature(LlavaOnevisionModel.forward)


class _StockWeightInit:
    """Weight initialisation exactly as transformers' own LLaVA-OneVision (a fresh model and a checkpoint's
    missing tensors get the same initialisation).

    transformers treats any model class defined outside its package as "custom code" (`is_custom_code()`) and then,
    while initialising a checkpoint's missing tensors, skips every module without parameters of its own, assuming
    custom `_init_weights` write weights in place; that skips SigLIP's attention and MLP initialisation (Xavier
    weights, near-zero MLP biases) in favour of its generic `Linear` one, which `__init__` does not do. mmreason's
    `_init_weights` is the stock one and only uses `transformers.initialization`, the case that needs no skip, and
    it ties no modules (the other thing the flag guards), so its classes are not custom code for this purpose.
    """

    @classmethod
    def is_custom_code(cls) -> bool:
        return False


class MMReasonModel(_StockWeightInit, LlavaOnevisionModel):
    """The multimodal backbone (no LM head); what `model.base_model` returns and TRL's fused head calls.

    Features are read from the vision tower's hidden states, so its final norm and pooling head (SigLIP's
    `post_layernorm` and `head`) never get a gradient; they are frozen here, which keeps DDP with
    `find_unused_parameters=False` (TRL's default with activation checkpointing) working, while their weights
    stay in checkpoints for compatibility with transformers' own LLaVA-OneVision.
    """

    config: MMReasonConfig

    #: Set by `RationaleSFTTrainer`. In training, a batch with neither images nor videos still runs the vision tower
    #: and projector on one blank tile and adds 0 x their output, so the vision parameters take part in every step
    #: on every rank (text-only batches otherwise hang DeepSpeed ZeRO-3: haotian-liu/LLaVA#1746).
    dummy_vision_forward: bool = False

    def __init__(self, config: MMReasonConfig):
        super().__init__(config)
        for name in UNUSED_VISION_MODULES:
            module = getattr(self.vision_tower, name, None)
            if isinstance(module, nn.Module):
                module.requires_grad_(False)

    # `LlavaOnevisionModel.forward` of the installed transformers: its signature (what `inspect.signature`,
    # `main_input_name` and transformers' own tests read), docs, arguments and output; plus, in training with
    # `dummy_vision_forward`, the dummy vision pass on batches with neither `pixel_values` nor `pixel_values_videos`
    # (with gradients enabled: it exists for the backward pass).
    @functools.wraps(LlavaOnevisionModel.forward)
    def forward(self, *args, **kwargs):
        outputs = super().forward(*args, **kwargs)
        given = _STOCK_FORWARD.bind_partial(self, *args, **kwargs).arguments
        no_media = given.get("pixel_values") is None and given.get("pixel_values_videos") is None
        # only where gradients flow: a no-grad pass in train mode (GRPO's generation, a reference pass) skips it
        if self.training and self.dummy_vision_forward and no_media and torch.is_grad_enabled():
            dummy = 0.0 * self.dummy_vision_output()
            if isinstance(outputs, tuple):  # return_dict=False
                return (outputs[0] + dummy, *outputs[1:])
            outputs.last_hidden_state = outputs.last_hidden_state + dummy
        return outputs

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """The backbone of any checkpoint mmreason reads (what `AutoModel.from_pretrained` returns).

        An mmreason checkpoint (full model or backbone alone) loads directly; its `lm_head` is the only tensor
        allowed to go unused. A LLaVA-NeXT or `llava_onevision` folder is loaded by
        [`MMReasonForConditionalGeneration.from_pretrained`], which renames and checks its tensors, and the
        backbone is returned. Any other missing, unused or mismatched tensor raises a `ValueError`.
        """
        if _source_format(pretrained_model_name_or_path, kwargs) != "mmreason":
            want_info = kwargs.pop("output_loading_info", False)
            full, info = MMReasonForConditionalGeneration.from_pretrained(
                pretrained_model_name_or_path, *args, output_loading_info=True, **kwargs
            )
            return (full.model, info) if want_info else full.model
        return _checked_load(
            super().from_pretrained, pretrained_model_name_or_path, args, kwargs, "mmreason", unused_ok="lm_head."
        )

    def dummy_vision_output(self) -> torch.Tensor:
        """Sum of the vision tower + projector (+ `image_newline`) output on one blank tile."""
        vision = self.config.vision_config
        tile = torch.zeros(
            1, vision.num_channels, vision.image_size, vision.image_size,
            dtype=self.multi_modal_projector.linear_1.weight.dtype, device=self.image_newline.device,
        )  # fmt: skip
        layer = self.config.vision_feature_layer
        hidden = self.vision_tower(tile, output_hidden_states=True).hidden_states
        hidden = hidden[layer] if isinstance(layer, int) else torch.cat([hidden[i] for i in layer], dim=-1)
        return self.multi_modal_projector(hidden).sum() + self.image_newline.sum()

    def pack_image_features(self, image_features, image_sizes, image_newline=None, vision_aspect_ratio=None):
        """Per image: the base tile's features, then the grid features cropped to the image, downsampled
        (`anyres_max_N`) and ended by `image_newline` row by row; a one-tile image gets one newline.

        The geometry is `anyres` with the config's `image_unpad_rule` (LLaVA-NeXT's truncating rule by default), the
        same as the processor's token count; transformers' own `pack_image_features` always rounds the unpad scale
        and keeps more columns for some sizes.
        Returns `(list of (tokens, dim) tensors, feature lengths)`, as the stock method.
        """
        vision = self.config.vision_config
        side, tile = vision.image_size // vision.patch_size, vision.image_size
        max_tiles = parse_anyres_max(vision_aspect_ratio or self.config.vision_aspect_ratio)
        rule = self.config.image_unpad_rule
        packed = []
        for features, size in zip(image_features, image_sizes):
            if features.shape[0] == 1:  # multi-image sample or video-like input: one tile, one newline
                base = features[0]
                packed.append(base if image_newline is None else torch.cat((base, image_newline[None].to(base))))
                continue
            if side * side != features.shape[1]:
                raise ValueError(f"{features.shape[1]} features per tile, expected {side}x{side}.")
            height, width = (int(x) for x in (size.tolist() if hasattr(size, "tolist") else size))
            layout = anyres_layout((height, width), self.config.image_grid_pinpoints, tile, side, max_tiles, rule)
            (rows, cols), grid = layout.grid, features[1:]
            if grid.shape[0] != rows * cols:
                raise ValueError(f"A {height}x{width} image has {grid.shape[0]} grid tiles; its layout {rows}x{cols}.")
            grid = grid.view(rows, cols, side, side, -1).permute(4, 0, 2, 1, 3).reshape(-1, rows * side, cols * side)
            crop_rows, crop_cols = unpad_crop(layout.feature_map, (height, width), rule)
            grid = grid[:, crop_rows, crop_cols]
            if layout.downsampled != layout.unpadded:
                grid = nn.functional.interpolate(grid[None], list(layout.downsampled), mode="bilinear")[0]
            if image_newline is not None:
                newline = image_newline[:, None, None].to(grid).expand(*grid.shape[:-1], 1)
                grid = torch.cat((grid, newline), dim=-1)
            packed.append(torch.cat((features[0], grid.flatten(1, 2).transpose(0, 1)), dim=0))
        lengths = torch.tensor([x.shape[0] for x in packed], dtype=torch.long, device=image_features[0].device)
        return packed, lengths


class MMReasonForConditionalGeneration(_StockWeightInit, LlavaOnevisionForConditionalGeneration):
    """Image/video-text-to-text model: [`MMReasonModel`] + LM head, with `generate()`.

    Example:
        ```python
        >>> import mmreason  # registers the Auto classes
        >>> from transformers import AutoModelForImageTextToText, AutoProcessor
        >>> model = AutoModelForImageTextToText.from_pretrained("path/to/checkpoint")
        >>> processor = AutoProcessor.from_pretrained("path/to/checkpoint")
        ```
    """

    config: MMReasonConfig

    def __init__(self, config: MMReasonConfig):
        # Build our backbone directly (not the stock one first): same module tree and parameter names.
        LlavaOnevisionPreTrainedModel.__init__(self, config)
        self.model = MMReasonModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """`PreTrainedModel.from_pretrained`, also for LLaVA-NeXT and transformers `llava_onevision` folders.

        Those are recognised from their `config.json`; the config is converted and the weights are renamed by
        transformers' `key_mapping` while loading. For every format, a load that leaves a parameter randomly
        initialised, leaves a checkpoint tensor unused or mismatches a shape raises a `ValueError` naming the
        tensors (shape mismatches are allowed only with an explicit `ignore_mismatched_sizes=True`).
        """
        from .checkpoint_formats import KEYS_FROM

        source = _source_format(pretrained_model_name_or_path, kwargs)
        if source != "mmreason" and not isinstance(kwargs.get("config"), MMReasonConfig):
            kwargs.pop("config", None)  # e.g. what AutoConfig made of a LLaVA-NeXT config: convert it ourselves
        kwargs.setdefault("key_mapping", KEYS_FROM[source])
        return _checked_load(super().from_pretrained, pretrained_model_name_or_path, args, kwargs, source)

    def save_pretrained(self, save_directory, *args, save_original_format: bool = False, **kwargs):
        """`PreTrainedModel.save_pretrained`, always under mmreason's own parameter names.

        transformers reverts the load-time `key_mapping` on save by default (`save_original_format=True`), which
        would write a LLaVA-NeXT or `llava_onevision` source's tensor names under `model_type: "mmreason"`. The
        Trainer's checkpoints (`checkpoint-N`, `save_model`) and `push_to_hub` go through here too. Use
        `mmreason convert --to ...` to write another format.
        """
        return super().save_pretrained(save_directory, *args, save_original_format=save_original_format, **kwargs)


def _checked_load(
    load: Any, path: Any, args: tuple, kwargs: dict[str, Any], source: str, unused_ok: str | None = None
) -> Any:
    """`load(path, *args, **kwargs)` (a `from_pretrained`) that raises a `ValueError` naming the tensors when the
    load left any missing, unused (other than those starting with `unused_ok`) or, unless the caller passed
    `ignore_mismatched_sizes=True`, mismatched; returns `(model, info)` when `output_loading_info` was asked for."""
    from .checkpoint_formats import check_loading_info

    want_info = kwargs.pop("output_loading_info", False)
    allow_mismatched = kwargs.get("ignore_mismatched_sizes", False)
    kwargs["ignore_mismatched_sizes"] = True  # reported below as a ValueError naming the tensors
    model, info = load(path, *args, output_loading_info=True, **kwargs)
    unused = [key for key in info.get("unexpected_keys", []) if not (unused_ok and key.startswith(unused_ok))]
    check_loading_info({**info, "unexpected_keys": unused}, source, path, allow_mismatched=allow_mismatched)
    return (model, info) if want_info else model


def _source_format(pretrained_model_name_or_path: Any, kwargs: dict[str, Any]) -> str:
    """The checkpoint format of a folder or Hub repo (`"mmreason"` when it has no readable config.json, so that
    transformers reports that itself)."""
    from .checkpoint_formats import detect_format
    from .llava_next_format import read_config_dict

    hub = {k: kwargs[k] for k in ("cache_dir", "revision", "token", "local_files_only", "subfolder") if k in kwargs}
    try:
        return detect_format(read_config_dict(pretrained_model_name_or_path, **hub))
    except OSError:
        return "mmreason"


__all__ = ["MMReasonForConditionalGeneration", "MMReasonModel"]
