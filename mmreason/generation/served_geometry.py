"""Which image geometry an OpenAI-compatible server applies, checked against the model it serves.

Stock vLLM's LLaVA-OneVision ignores `vision_aspect_ratio` (always `anyres_max_9`) and rounds the unpad crop, so
an export of an `anyres_max_4` model (MAmmoTH-VL's setting) served by stock vLLM gives large images other
image-token counts and other answers than the model itself; vLLM with mmreason's plugin (`mmreason serve`) serves the
model's own geometry. The served config is the `--served_config` the user names, or the `root` (served path) vLLM's
`/v1/models` lists for the model when it is a local folder with a `config.json`; when it is not stock vLLM's
geometry, one probe request (one image, one token) shows whether the server counts image tokens as the model does.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from .errors import ServedGeometryError

logger = logging.getLogger("mmreason.generation")

#: the config types whose `vision_aspect_ratio` and `image_unpad_rule` decide the geometry
GEOMETRY_MODEL_TYPES = ("llava_onevision", "mmreason")
#: (width, height) of probe images, tried in order: above `anyres_max_4`'s downscale threshold, then sizes where the
#: truncating and rounding unpad rules keep different columns or rows
PROBE_SIZES = ((1153, 944), (47, 423), (423, 47), (1920, 1080), (3000, 200))


def served_root(client: Any, model: str) -> str | None:
    """The served path vLLM lists for `model` in `/v1/models` (`None`: not vLLM, not listed, or unreachable)."""
    import openai

    try:
        listed = client.with_options(max_retries=0, timeout=10.0).models.list()
    except openai.OpenAIError as error:
        logger.debug("cannot list the served models (%s): served geometry unchecked", error)
        return None
    for entry in listed.data:
        if entry.id == model and getattr(entry, "owned_by", None) == "vllm":
            return getattr(entry, "root", None)
    return None


def _folder(path: str | Path) -> Path:
    """The model folder of `path` (a folder, or its `config.json`)."""
    path = Path(path)
    return path.parent if path.name == "config.json" else path


def config_geometry(path: str | Path) -> dict[str, str] | None:
    """`{"vision_aspect_ratio", "image_unpad_rule"}` of an mmreason or llava_onevision config (a folder or its
    `config.json`; the config class's defaults for what the file omits); `None` for other model types."""
    from transformers import AutoConfig  # `import mmreason` registered mmreason's config with it

    config = AutoConfig.from_pretrained(_folder(path))
    if config.model_type not in GEOMETRY_MODEL_TYPES:
        return None
    rule = getattr(config, "image_unpad_rule", None) or "truncate"  # a llava_onevision folder without the field
    return {"vision_aspect_ratio": config.vision_aspect_ratio, "image_unpad_rule": rule}


def served_geometry(client: Any, model: str, served_config: str | None = None) -> dict[str, Any] | None:
    """`{"vision_aspect_ratio", "image_unpad_rule", "config"}` of the served model when its config can be read (the
    `served_config` named, or the local `root` vLLM lists), else `None`."""
    source = served_config
    if source is None:
        root = served_root(client, model)
        if root is None or not (Path(root) / "config.json").is_file():
            return None
        source = root
    geometry = config_geometry(source)
    return None if geometry is None else {**geometry, "config": str(source)}


def probe(client: Any, model: str, source: str) -> dict[str, Any] | None:
    """Does the server count image tokens with the model's geometry? One image whose count differs between the
    model's geometry and stock vLLM's, one generated token: `{"image", "expected_prompt_tokens",
    "served_prompt_tokens"}` (the latter `None` when the server reports no usage), or `None` when `source` has no
    processor to count with or no probe size tells the two geometries apart."""
    import openai

    from ..model import MMReasonProcessor
    from ..model.convert import VLLM_ASPECT_RATIO, VLLM_UNPAD_RULE
    from .server_check import check_image, in_process_inputs, served_messages

    try:
        processor = MMReasonProcessor.from_pretrained(_folder(source))
    except (OSError, ValueError, TypeError) as error:
        logger.debug("no processor in %s to probe the server with (%s)", source, error)
        return None
    stock = copy.copy(processor)
    stock.vision_aspect_ratio, stock.image_unpad_rule = VLLM_ASPECT_RATIO, VLLM_UNPAD_RULE
    size = next((s for s in PROBE_SIZES if processor.count_image_tokens([s[::-1]]) != stock.count_image_tokens(
        [s[::-1]])), None)  # fmt: skip
    if size is None:
        return None
    image = check_image(*size)
    expected = int(in_process_inputs(processor, [image], return_tensors="np")["input_ids"].shape[1])
    try:
        reply = client.chat.completions.create(model=model, messages=served_messages([image]), max_tokens=1,
                                               temperature=0)  # fmt: skip
        served = reply.usage.prompt_tokens if reply.usage else None
    except openai.BadRequestError as error:  # e.g. stock vLLM's count of the image exceeds the context
        logger.debug("the probe was refused: %s", error)
        served = None
    return {"image": f"{size[0]}x{size[1]}", "expected_prompt_tokens": expected, "served_prompt_tokens": served}


def check_served_geometry(
    client: Any, model: str, served_config: str | None = None, allow_mismatch: bool = False,
    geometry: dict[str, Any] | None = None,
) -> str | None:  # fmt: skip
    """Refuse a vLLM server that does not serve its model's image geometry; returns the mismatch message when
    `allow_mismatch` lets it through (to record), else `None`. `geometry`: what [`served_geometry`] found, when the
    caller has it already (the probe's result is added to it).

    A model whose geometry stock vLLM implements (`anyres_max_9`, rounding unpad) passes. Any other is probed
    ([`probe`]): a server that counts the probe image's tokens as the model does (vLLM with mmreason's plugin)
    passes; one that does not, or cannot be probed, is refused.

    Raises:
        ServedGeometryError: the server does not (or cannot be shown to) serve the model's geometry.
    """
    geometry = geometry if geometry is not None else served_geometry(client, model, served_config)
    if geometry is None:
        return None
    from ..model.convert import vllm_geometry_differences  # imported only with a config to check (torch: ~6 s)

    differences = vllm_geometry_differences(geometry["vision_aspect_ratio"], geometry["image_unpad_rule"])
    if not differences:
        return None
    found = geometry["probe"] = probe(client, model, geometry["config"])
    if found and found["served_prompt_tokens"] == found["expected_prompt_tokens"]:
        return None  # the server counts as the model does: vLLM with mmreason's plugin
    seen = (
        f"a {found['image']} image is {found['served_prompt_tokens']} prompt tokens on the server, "
        f"{found['expected_prompt_tokens']} for the model"
        if found
        else f"the server could not be probed (no processor in {geometry['config']})"
    )
    message = (
        f"the server's model {model!r} ({geometry['config']}): {'; '.join(differences)}; {seen}. Serve it with "
        "mmreason's vLLM plugin (`mmreason serve`, integrations/vllm), evaluate it in-process (no --base_url), or "
        "pass --allow_geometry_mismatch (lmms-eval: allow_geometry_mismatch=true) to evaluate the served geometry "
        "anyway (recorded in the results)"
    )
    if not allow_mismatch:
        raise ServedGeometryError(message)
    logger.warning("%s", message)
    return message


__all__ = [
    "GEOMETRY_MODEL_TYPES", "PROBE_SIZES", "check_served_geometry", "config_geometry", "probe", "served_geometry",
    "served_root",
]  # fmt: skip
