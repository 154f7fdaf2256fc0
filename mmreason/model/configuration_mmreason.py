"""`MMReasonConfig`: a LLaVA-OneVision configuration with MAmmoTH-VL's defaults.

The architecture is LLaVA-OneVision (vision encoder -> 2-layer GELU MLP -> causal LM, anyres tiling with
spatial unpad and a learned `image_newline`), so the config subclasses transformers' `LlavaOnevisionConfig`
and only changes what MAmmoTH-VL trains differently:

* `vision_aspect_ratio="anyres_max_4"` (transformers defaults to `anyres_max_9`), any `anyres_max_N` allowed;
* the SigLIP-so400m-patch14-384 tower as LLaVA-NeXT runs it: its last encoder layer deleted (26 of 27 layers) and
  the last remaining hidden state used, i.e. the penultimate layer of the full tower (`mm_vision_select_layer=-2`),
  without computing or storing the unused 27th layer;
* `image_grid_pinpoints` may be given as LLaVA-NeXT's `"(1x1),...,(6x6)"` string;
* `image_unpad_rule="truncate"`: the anyres feature crop of LLaVA-NeXT, which the release checkpoints were trained
  with (transformers' own LLaVA-OneVision and vLLM round, `"round"`; set it for checkpoints trained that way);
* `mm_projector_type` records the projector; only LLaVA's `mlp2x_gelu` exists in this architecture.

Any HF vision-encoder config and any HF causal-LM config can be composed (`vision_config` / `text_config`
accept config objects or dicts with a `model_type`).
"""

from __future__ import annotations

import re

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, LlavaOnevisionConfig
from transformers.configuration_utils import SubConfigSpec

from .anyres import check_unpad_rule

SUPPORTED_PROJECTORS = ("mlp2x_gelu",)
_ANYRES_RE = re.compile(r"^anyres_max_(\d+)$")
_GRID_RE = re.compile(r"\((\d+)x(\d+)\)")

# google/siglip-so400m-patch14-384 as LLaVA-NeXT/MAmmoTH-VL use it: 27th layer deleted, no pooling head.
SIGLIP_SO400M_384 = {
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "patch_size": 14,
    "image_size": 384,
    "num_hidden_layers": 26,
    "num_attention_heads": 16,
    "vision_use_head": False,
}


def parse_anyres_max(vision_aspect_ratio: str) -> int:
    """Return N for `"anyres_max_N"`; raise a `ValueError` naming the accepted form otherwise."""
    match = _ANYRES_RE.match(str(vision_aspect_ratio))
    if match is None or int(match.group(1)) < 1:
        raise ValueError(
            f"Unsupported vision_aspect_ratio {vision_aspect_ratio!r}: expected 'anyres_max_N' with N >= 1 "
            "(MAmmoTH-VL uses 'anyres_max_4', LLaVA-OneVision 'anyres_max_9')."
        )
    return int(match.group(1))


def parse_grid_pinpoints(pinpoints: str | list, tile_size: int) -> list[list[int]]:
    """Normalise `image_grid_pinpoints`.

    Accepts a list of `[height, width]` pairs, or LLaVA-NeXT's range string `"(1x1),...,(6x6)"`, which expands to
    every grid from the first to the last corner times `tile_size` (e.g. 36 pinpoints of multiples of 384).
    """
    if isinstance(pinpoints, str):
        corners = [(int(a), int(b)) for a, b in _GRID_RE.findall(pinpoints)]
        if len(corners) < 1:
            raise ValueError(f"Cannot parse image_grid_pinpoints {pinpoints!r}; expected e.g. '(1x1),...,(6x6)'.")
        (r0, c0), (r1, c1) = corners[0], corners[-1]
        return [[i * tile_size, j * tile_size] for i in range(r0, r1 + 1) for j in range(c0, c1 + 1)]
    out = [[int(h), int(w)] for h, w in pinpoints]
    bad = [p for p in out if p[0] <= 0 or p[1] <= 0 or p[0] % tile_size or p[1] % tile_size]
    if bad:
        raise ValueError(f"image_grid_pinpoints must be positive multiples of the tile size {tile_size}; got {bad}.")
    return out


@strict
class MMReasonConfig(LlavaOnevisionConfig):
    r"""Configuration of [`MMReasonForConditionalGeneration`].

    Args:
        vision_config: any HF vision-encoder config (default: SigLIP-so400m-patch14-384 minus its last layer).
        text_config: any HF causal-LM config (default: Qwen2).
        vision_feature_layer: hidden-state index of the vision tower fed to the projector (default -1 of the
            26-layer tower = layer -2 of the full SigLIP, LLaVA-NeXT's `mm_vision_select_layer=-2`).
        vision_aspect_ratio: `"anyres_max_N"`; grids with more than N tiles' worth of features are downsampled.
        image_grid_pinpoints: candidate anyres resolutions, a list of `[h, w]` or `"(1x1),...,(6x6)"`.
        image_unpad_rule: how the grid features are cropped back to the image's aspect ratio: `"truncate"`
            (LLaVA-NeXT, MAmmoTH-VL; the default, also for LLaVA-NeXT and `llava_onevision` folders without the
            field) or `"round"` (transformers' `LlavaOnevision*` and vLLM; e.g. 1161 instead of 1053 tokens for a
            47x423 image). The processor's token count and the model's crop both follow it.
        mm_projector_type: the projector type; only `"mlp2x_gelu"` (Linear -> GELU -> Linear).
        vision_tower_name_or_path: Hub id of the vision tower the model was built from (LLaVA-NeXT's
            `mm_vision_tower`); written back on export to the LLaVA-NeXT format.

    `from_pretrained` also reads original LLaVA-NeXT folders (`mm_*` fields, any `model_type`) and transformers'
    own `llava_onevision` folders, converting the config on the fly (see `llava_next_format`).
    """

    model_type = "mmreason"
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig, model_type="siglip_vision_model", init_kwargs=SIGLIP_SO400M_384
        ),
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen2"),
    }

    vision_feature_layer: int | list[int] = -1
    vision_aspect_ratio: str = "anyres_max_4"
    image_grid_pinpoints: list | str | None = None
    image_unpad_rule: str = "truncate"
    mm_projector_type: str = "mlp2x_gelu"
    vision_tower_name_or_path: str = "google/siglip-so400m-patch14-384"

    def __post_init__(self, **kwargs):
        grid = self.image_grid_pinpoints
        vision = self.vision_config
        if isinstance(vision, dict) and "siglip" in str(vision.get("model_type", "")):
            # SigLIP's attention-pool head is never used by LLaVA; building it leaves unused parameters (DDP).
            vision.setdefault("vision_use_head", False)
        super().__post_init__(**kwargs)
        if self.mm_projector_type not in SUPPORTED_PROJECTORS:
            raise ValueError(
                f"Unsupported mm_projector_type {self.mm_projector_type!r}; supported: {SUPPORTED_PROJECTORS}."
            )
        parse_anyres_max(self.vision_aspect_ratio)
        check_unpad_rule(self.image_unpad_rule)
        tile = self.vision_config.image_size
        self.image_grid_pinpoints = parse_grid_pinpoints(grid if grid is not None else "(1x1),...,(6x6)", tile)

    @classmethod
    def get_config_dict(cls, pretrained_model_name_or_path, **kwargs) -> tuple[dict, dict]:
        """The config dict of `pretrained_model_name_or_path`, converted to mmreason's fields if it is in the
        LLaVA-NeXT or transformers `llava_onevision` format (so `from_pretrained` loads those folders as they are)."""
        from .checkpoint_formats import HUB_KWARGS, to_mmreason_config_dict

        hub_kwargs = {k: kwargs[k] for k in HUB_KWARGS if k in kwargs}
        config_dict, kwargs = super().get_config_dict(pretrained_model_name_or_path, **kwargs)

        return to_mmreason_config_dict(config_dict, pretrained_model_name_or_path, **hub_kwargs), kwargs

    @property
    def anyres_max(self) -> int:
        """N of `vision_aspect_ratio="anyres_max_N"`."""
        return parse_anyres_max(self.vision_aspect_ratio)

    @property
    def num_image_tokens(self) -> int:
        """Vision tokens of one tile (729 for SigLIP 384/14)."""
        return (self.vision_config.image_size // self.vision_config.patch_size) ** 2


__all__ = ["MMReasonConfig", "parse_anyres_max", "parse_grid_pinpoints"]
