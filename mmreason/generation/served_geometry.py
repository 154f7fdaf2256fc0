"""Which image geometry an OpenAI-compatible server applies, checked against the model it serves.

vLLM's LLaVA-OneVision ignores `vision_aspect_ratio` and always applies `anyres_max_9`
(`mmreason.model.convert.VLLM_ASPECT_RATIO`), so an export of an `anyres_max_4` model (MAmmoTH-VL's setting)
served by vLLM gives large images other image-token counts and other answers than the model itself. The served
config is the `--served_config` the user names, or the `root` (served path) vLLM's `/v1/models` lists for the model
when it is a local folder with a `config.json`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .errors import ServedGeometryError

logger = logging.getLogger("mmreason.generation")

#: the config types whose `vision_aspect_ratio` decides the geometry
GEOMETRY_MODEL_TYPES = ("llava_onevision", "mmreason")


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


def config_aspect_ratio(path: str | Path) -> str | None:
    """`vision_aspect_ratio` of an mmreason or llava_onevision config (a folder or its `config.json`), with the
    config class's default when the file omits it; `None` for other model types."""
    from transformers import AutoConfig  # `import mmreason` registered mmreason's config with it

    path = Path(path)
    config = AutoConfig.from_pretrained(path.parent if path.name == "config.json" else path)
    if config.model_type not in GEOMETRY_MODEL_TYPES:
        return None
    return config.vision_aspect_ratio


def served_geometry(client: Any, model: str, served_config: str | None = None) -> dict[str, str] | None:
    """`{"vision_aspect_ratio": ..., "config": ...}` of the served model when its config can be read (the
    `served_config` named, or the local `root` vLLM lists), else `None`."""
    source = served_config
    if source is None:
        root = served_root(client, model)
        if root is None or not (Path(root) / "config.json").is_file():
            return None
        source = root
    ratio = config_aspect_ratio(source)
    return None if ratio is None else {"vision_aspect_ratio": ratio, "config": str(source)}


def check_served_geometry(
    client: Any, model: str, served_config: str | None = None, allow_mismatch: bool = False,
    geometry: dict[str, str] | None = None,
) -> str | None:  # fmt: skip
    """Refuse a vLLM server whose geometry differs from its model's; returns the mismatch message when
    `allow_mismatch` lets it through (to record), else `None` (same geometry, or nothing to tell). `geometry`: what
    [`served_geometry`] found, when the caller has it already.

    Raises:
        ServedGeometryError: the served config's `vision_aspect_ratio` is not vLLM's `anyres_max_9`.
    """
    geometry = geometry if geometry is not None else served_geometry(client, model, served_config)
    if geometry is None:
        return None
    from ..model.convert import VLLM_ASPECT_RATIO  # imported only with a config to check (it pulls in torch: ~6 s)

    ratio, source = geometry["vision_aspect_ratio"], geometry["config"]
    if ratio is None or ratio == VLLM_ASPECT_RATIO:
        return None
    message = (
        f"the server's model {model!r} ({source}) has vision_aspect_ratio={ratio!r}, but vLLM's LLaVA-OneVision "
        f"ignores it and always applies {VLLM_ASPECT_RATIO!r}: large images get other image-token counts and other "
        "answers than the model itself. Evaluate it in-process (no --base_url), or pass --allow_geometry_mismatch "
        "(lmms-eval: allow_geometry_mismatch=true) to evaluate the served geometry anyway (recorded in the results) "
        "— e.g. a server running mmreason's vLLM plugin (integrations/vllm), which serves the model's own geometry"
    )
    if not allow_mismatch:
        raise ServedGeometryError(message)
    logger.warning("%s", message)
    return message


__all__ = ["GEOMETRY_MODEL_TYPES", "check_served_geometry", "config_aspect_ratio", "served_geometry", "served_root"]
