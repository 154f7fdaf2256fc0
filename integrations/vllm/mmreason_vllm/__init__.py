"""mmreason's vLLM plugin: vLLM's LLaVA-OneVision served with the checkpoint's own geometry.

vLLM's `LlavaOnevisionForConditionalGeneration` hard-codes `anyres_max_9` (token count and feature downsampling),
rounds the unpad scale and tiles every image of a multi-image prompt; MAmmoTH-VL trains at `anyres_max_4` with
LLaVA-NeXT's truncating unpad and one padded tile per image of a multi-image sample. `register()` (the
`vllm.general_plugins` entry point, run by vLLM at start-up) replaces the architecture with
[`FaithfulLlavaOnevision`](`mmreason_vllm.model`), which reads `vision_aspect_ratio` and `image_unpad_rule` from the
checkpoint's config and counts and packs image features with `mmreason_vllm.anyres` — a byte-identical copy of
mmreason's `mmreason/model/anyres.py` (mmreason's tests check the copy), the geometry mmreason's processor and model
use — and builds multi-image tiles with `mmreason_vllm.multi_image`.
"""

from .geometry import image_grid_features, max_tiles, unpad_rule

__all__ = ["image_grid_features", "max_tiles", "unpad_rule"]
