"""The stock transformers LLaVA-OneVision pipeline, as the numerical reference.

transformers' `LlavaOnevisionProcessor` cannot be built without torchvision (its video processor), so the
reference processor is the documented image-only subclass: every piece of placeholder arithmetic is the stock
code; only the constructor skips the video processor.

Stock comparisons (test_modeling, test_processing, test_image_processing) use image sizes where transformers'
anyres rules agree with LLaVA-NeXT's. They differ for a few sizes, where transformers rounds the unpad scale
(`int(round(x, 7))`) and LLaVA-NeXT truncates (`int(x)`); e.g. a 47x423 image on the (1x1)..(6x6) x 384 px grid is
1053 tokens in LLaVA-NeXT and mmreason, 1161 in stock transformers. mmreason follows LLaVA-NeXT there; those sizes
are checked against LLaVA-NeXT's own numbers (test_anyres_golden.py), not against stock
(test_processing.py::test_anyres_counts_equal_stock_where_the_unpad_rules_agree).
"""

import torch
from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, LlavaOnevisionImageProcessorPil
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor
from transformers.processing_utils import ProcessorMixin


class StockImageOnlyProcessor(LlavaOnevisionProcessor):
    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        num_image_tokens=None,
        vision_feature_select_strategy=None,
        chat_template=None,
        vision_aspect_ratio="anyres_max_9",
    ):
        self.num_image_tokens = num_image_tokens
        self.vision_feature_select_strategy = vision_feature_select_strategy
        self.image_token, self.video_token = "<image>", "<video>"
        self.image_token_id = tokenizer.convert_tokens_to_ids("<image>")
        self.video_token_id = tokenizer.convert_tokens_to_ids("<video>")
        self.vision_aspect_ratio = vision_aspect_ratio
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)


def stock_copy(model):
    """`LlavaOnevisionForConditionalGeneration` with the same config values and a copy of `model`'s weights."""
    values = model.config.to_dict()
    for key in ("model_type", "mm_projector_type", "architectures", "transformers_version"):
        values.pop(key, None)
    config = LlavaOnevisionConfig(**values)
    stock = LlavaOnevisionForConditionalGeneration(config).eval()
    missing, unexpected = stock.load_state_dict(model.state_dict(), strict=True)
    assert not missing and not unexpected
    stock.generation_config = model.generation_config
    return stock


def stock_processor(processor):
    ip = processor.image_processor
    image_processor = LlavaOnevisionImageProcessorPil(
        size=dict(ip.size),
        image_mean=list(ip.image_mean),
        image_std=list(ip.image_std),
        image_grid_pinpoints=ip.image_grid_pinpoints,
    )
    return StockImageOnlyProcessor(
        image_processor=image_processor,
        tokenizer=processor.tokenizer,
        num_image_tokens=processor.num_image_tokens,
        vision_feature_select_strategy=processor.vision_feature_select_strategy,
        chat_template=processor.chat_template,
        vision_aspect_ratio=processor.vision_aspect_ratio,
    )


@torch.no_grad()
def logits(model, inputs):
    return model(**inputs).logits
