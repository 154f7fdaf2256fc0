"""The mmreason MLLM: LLaVA-OneVision's architecture under the `mmreason` model type.

`MMReasonModel` (vision tower -> `mlp2x_gelu` projector -> language model, anyres packing with spatial unpad,
`anyres_max_N` downsampling, `image_newline`, 2x2-pooled video frames) and `MMReasonForConditionalGeneration`
(+ LM head, `GenerationMixin`) are subclasses of transformers' LLaVA-OneVision classes: the numerics are the
maintained upstream code, registered under our own config so that our processor, defaults and checkpoint
conversions apply. Both backbones are built with `AutoModel.from_config`, so any HF vision encoder and any HF
causal LM compose.

TRL's training contract holds by construction: `base_model_prefix = "model"`, so `model.base_model` is the
`MMReasonModel` backbone; it accepts every processor output (`pixel_values`, `image_sizes`, `batch_num_images`,
`pixel_values_videos`, ...) and returns `.last_hidden_state`; `get_output_embeddings()` is the `lm_head`
`nn.Linear` that TRL's fused LM head reads.
"""

from torch import nn
from transformers.models.llava_onevision.modeling_llava_onevision import (
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionModel,
    LlavaOnevisionPreTrainedModel,
)

from .configuration_mmreason import MMReasonConfig


class MMReasonModel(LlavaOnevisionModel):
    """The multimodal backbone (no LM head); what `model.base_model` returns and TRL's fused head calls."""

    config: MMReasonConfig


class MMReasonForConditionalGeneration(LlavaOnevisionForConditionalGeneration):
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


__all__ = ["MMReasonForConditionalGeneration", "MMReasonModel"]
