"""mmreason's vLLM plugin: vLLM's LLaVA-OneVision served with the checkpoint's own anyres geometry.

vLLM's `LlavaOnevisionForConditionalGeneration` hard-codes `anyres_max_9` (token count and feature downsampling)
and rounds the unpad scale; MAmmoTH-VL trains at `anyres_max_4` with LLaVA-NeXT's truncating unpad. `register()`
(the `vllm.general_plugins` entry point, run by vLLM at start-up) replaces the architecture with
[`FaithfulLlavaOnevision`](`mmreason_vllm.model`), which reads `vision_aspect_ratio` from the checkpoint's config
and counts and packs image features with `mmreason_vllm.anyres` — a byte-identical copy of mmreason's
`mmreason/model/anyres.py` (mmreason's tests check the copy), the geometry mmreason's processor and model use.
"""

from .geometry import image_grid_features, max_tiles

__all__ = ["image_grid_features", "max_tiles"]
