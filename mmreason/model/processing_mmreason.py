"""`MMReasonProcessor`: tokenizer + [`MMReasonImageProcessor`] + the `qwen_2_5` chat template.

It keeps LLaVA-OneVision's placeholder arithmetic (multi-image / video token counts of transformers'
`LlavaOnevisionProcessor`) and adds what training on messy data needs:

* single-image (anyres) counts follow LLaVA-NeXT's unpad rule (`anyres`), which the model's feature crop uses too;
  transformers rounds the unpad scale and gives a few sizes more tokens (47x423: 1161 instead of 1053);
* no torchvision: video frames are resized and normalised by the image processor;
* images are grouped per sample by the `<image>` placeholders of each text, so `processor(text=[t1, t2],
  images=[a, b, c])` gives sample 1 the first `t1.count("<image>")` images; a sample with several images uses
  LLaVA-OneVision's multi-image path (one tile each), a sample with one image the anyres path;
* a count mismatch names the sample and both counts; paths, bytes and `datasets` image dicts are opened with the
  checks of `image_io` (corrupt files, decompression bombs, unsupported modes).
"""

from __future__ import annotations

import math
from typing import Any

from PIL import Image
from transformers import PreTrainedTokenizerBase
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor
from transformers.processing_utils import ProcessorMixin

from .anyres import anyres_layout, check_unpad_rule, multi_image_num_tokens, video_num_tokens
from .chat_templates import QWEN_2_5
from .configuration_mmreason import MMReasonConfig, parse_anyres_max
from .image_io import load_rgb
from .image_processing_mmreason import MMReasonImageProcessor


class MMReasonProcessor(LlavaOnevisionProcessor):
    """Processor of [`MMReasonForConditionalGeneration`].

    Args:
        image_processor: an [`MMReasonImageProcessor`].
        tokenizer: the language model's tokenizer; it must know the `<image>` and `<video>` tokens.
        num_image_tokens: vision tokens per tile, `(image_size // patch_size) ** 2` (729 for SigLIP 384/14).
        vision_feature_select_strategy: `"full"` (SigLIP) or `"default"` (drop a CLS token), as in the config.
        chat_template: Jinja template; defaults to LLaVA-NeXT's `qwen_2_5` with generation markers.
        vision_aspect_ratio: `"anyres_max_N"`, as in the model config.
        image_unpad_rule: `"truncate"` (LLaVA-NeXT) or `"round"` (transformers), as in the model config.
    """

    def __init__(
        self,
        image_processor: MMReasonImageProcessor | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        num_image_tokens: int | None = None,
        vision_feature_select_strategy: str = "full",
        chat_template: str | None = None,
        image_token: str = "<image>",
        video_token: str = "<video>",
        vision_aspect_ratio: str = "anyres_max_4",
        image_unpad_rule: str = "truncate",
        **kwargs,
    ):
        self.num_image_tokens = num_image_tokens
        self.vision_feature_select_strategy = vision_feature_select_strategy
        self.vision_aspect_ratio = vision_aspect_ratio
        self.image_unpad_rule = check_unpad_rule(image_unpad_rule)
        self.image_token = image_token
        self.video_token = video_token
        self.image_token_id = tokenizer.convert_tokens_to_ids(image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(video_token)
        if self.image_token_id in (None, tokenizer.unk_token_id):
            raise ValueError(f"The tokenizer has no {image_token!r} token; add it as a special token first.")
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template or QWEN_2_5)

    @classmethod
    def from_model_config(
        cls, config: MMReasonConfig, tokenizer: PreTrainedTokenizerBase, **image_processor_kwargs: Any
    ) -> MMReasonProcessor:
        """Build the processor that matches `config` (tile size, grid, token counts, anyres_max)."""
        tile = config.vision_config.image_size
        image_processor = MMReasonImageProcessor(
            size={"height": tile, "width": tile},
            image_grid_pinpoints=config.image_grid_pinpoints,
            **image_processor_kwargs,
        )
        # LLaVA processors count a CLS token in `num_image_tokens` and drop it again for strategy "default".
        with_cls = config.vision_feature_select_strategy == "default"
        return cls(
            image_processor=image_processor,
            tokenizer=tokenizer,
            num_image_tokens=config.num_image_tokens + int(with_cls),
            vision_feature_select_strategy=config.vision_feature_select_strategy,
            vision_aspect_ratio=config.vision_aspect_ratio,
            image_unpad_rule=config.image_unpad_rule,
        )

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs) -> MMReasonProcessor:
        """`ProcessorMixin.from_pretrained`, also for LLaVA-NeXT and transformers `llava_onevision` folders.

        LLaVA-NeXT releases ship no processor: it is derived from the folder (tokenizer + `<image>`/`<video>`,
        SigLIP preprocessing with mean/std 0.5, the config's grid and token counts). `llava_onevision` folders keep
        their image mean/std/size and chat template.
        """
        from .checkpoint_formats import HUB_KWARGS, detect_format, load_tokenizer
        from .llava_next_format import read_config_dict

        hub = {k: kwargs[k] for k in HUB_KWARGS if k in kwargs}
        try:
            source = detect_format(read_config_dict(pretrained_model_name_or_path, **hub))
        except (OSError, ValueError):  # a processor-only folder
            source = "mmreason"
        if source == "mmreason":
            return super().from_pretrained(pretrained_model_name_or_path, **kwargs)
        config = MMReasonConfig.from_pretrained(pretrained_model_name_or_path, **hub)
        tokenizer = load_tokenizer(pretrained_model_name_or_path, **hub)
        image_kwargs, chat_template = {}, None
        if source == "llava_onevision":
            stored, _ = MMReasonImageProcessor.get_image_processor_dict(pretrained_model_name_or_path, **hub)
            image_kwargs = {k: stored[k] for k in ("image_mean", "image_std", "resample") if k in stored}
            chat_template = tokenizer.chat_template
        processor = cls.from_model_config(config, tokenizer, **image_kwargs)
        if chat_template:
            processor.chat_template = chat_template
        return processor

    @property
    def video_processor(self) -> MMReasonImageProcessor:
        """Videos are handled by the image processor (`preprocess_videos`); no torchvision needed."""
        return self.image_processor

    def count_image_tokens(self, image_sizes: list[tuple[int, int]]) -> list[int]:
        """Tokens each image of one sample expands to, from `(height, width)` sizes alone: the anyres count (with
        the `anyres_max_N` downscale) for a single image, one tile plus a newline each for several images."""
        if len(image_sizes) != 1:  # every image: one padded tile (a CLS token is dropped, strategy "default")
            return [multi_image_num_tokens(math.isqrt(self.num_image_tokens))] * len(image_sizes)
        tile = self.image_processor.size
        count = self._get_number_of_features(*image_sizes[0], tile["height"], tile["width"])
        return [count - int(self.vision_feature_select_strategy == "default")]

    def _get_number_of_features(self, orig_height: int, orig_width: int, height: int, width: int) -> int:
        """Tokens of a single-image (anyres) sample: the whole-image tile plus the unpadded, `anyres_max_N`
        downsampled grid with one newline per row, by LLaVA-NeXT's rules (`anyres`) and the config's unpad rule, the
        same rules as the model's feature crop. Overrides transformers' count, which always rounds the unpad scale
        (e.g. 1161 vs LLaVA-NeXT's 1053 tokens for a 47x423 image); `height`/`width` are the tile size."""
        layout = anyres_layout(
            (orig_height, orig_width),
            self.image_processor.image_grid_pinpoints,
            tile=height,
            side=math.isqrt(self.num_image_tokens),
            max_tiles=parse_anyres_max(self.vision_aspect_ratio),
            unpad_rule=self.image_unpad_rule,
        )
        return self.num_image_tokens + layout.grid_tokens

    def count_video_tokens(self, num_frames: int) -> int:
        """Tokens a video of `num_frames` sampled frames expands to (2x2-pooled tiles plus one newline)."""
        return video_num_tokens(num_frames, math.isqrt(self.num_image_tokens))

    def prepare_inputs_layout(self, images=None, text=None, videos=None, audio=None, **kwargs):
        """Wrap text in a list, open images with checks, and group them per sample by `<image>` count."""
        if text is not None:
            text = [text] if isinstance(text, str) else list(text)
        if images is not None:
            limit = kwargs.get("max_image_pixels", (kwargs.get("images_kwargs") or {}).get("max_image_pixels"))
            images = self._load(images, limit or self.image_processor.max_image_pixels)
            if text is not None:
                images = self._group_by_placeholders(images, text)
        return images, text, videos, audio

    def _load(self, images: Any, max_pixels: int) -> Any:
        if isinstance(images, (list, tuple)):
            return [self._load(image, max_pixels) for image in images]
        rgb = load_rgb(images, max_pixels)
        return images if rgb is None else rgb

    def _group_by_placeholders(self, images: Any, text: list[str]) -> list[list[Any]]:
        counts = [sample.count(self.image_token) for sample in text]
        if isinstance(images, list) and images and all(isinstance(x, list) for x in images):
            given = [len(x) for x in images]
            if given == counts:
                return images
            if sum(given) != sum(counts):
                raise ValueError(
                    f"Image/placeholder mismatch: the texts have {counts} {self.image_token} placeholders per sample "
                    f"but {given} images per sample were given."
                )
            images = [image for sample in images for image in sample]
        flat = images if isinstance(images, list) else [images]
        if len(flat) != sum(counts):
            raise ValueError(
                f"Image/placeholder mismatch: the texts have {sum(counts)} {self.image_token} placeholders "
                f"(per sample: {counts}) but {len(flat)} images were given."
            )
        grouped, start = [], 0
        for n in counts:
            grouped.append(flat[start : start + n])
            start += n
        return grouped

    def _process_videos(self, videos: Any, **kwargs) -> tuple[dict, list[str]]:
        videos = flatten_videos(videos)
        processed = self.image_processor.preprocess_videos(
            videos, max_frames=kwargs.get("max_frames"), return_tensors=kwargs.get("return_tensors")
        )
        replacements = [self.replace_video_token(processed, video_idx=i) for i in range(len(videos))]
        return processed, replacements


def flatten_videos(videos: Any) -> list[Any]:
    """Any nesting of videos (per-sample lists from chat templates included) -> a flat list of videos.

    A video is a `(T, H, W, C)` array or a list of frames (PIL images or `(H, W, C)` arrays).
    """
    if getattr(videos, "ndim", 0) == 4:
        return [videos]
    if isinstance(videos, (list, tuple)) and videos and all(_is_frame(frame) for frame in videos):
        return [list(videos)]
    if isinstance(videos, (list, tuple)):
        return [video for item in videos for video in flatten_videos(item)]
    raise ValueError(f"Cannot read a video from {type(videos).__name__}; give frames or a (T, H, W, C) array.")


def _is_frame(item: Any) -> bool:
    return isinstance(item, Image.Image) or getattr(item, "ndim", 0) in (2, 3)


__all__ = ["MMReasonProcessor", "flatten_videos"]
