"""transformers' `ModelTesterMixin` on LLaVA-OneVision, once with the stock classes and once with mmreason's.

Not collected by the suite (no `test_` prefix): `test_transformers_peer.py` runs this file in a subprocess with the
sdist's tests on `PYTHONPATH` (see `transformers_sdist.py`) and compares the outcomes of the two classes below.
The tiny configuration follows transformers' own LLaVA-OneVision tester (Qwen2 text model, SigLIP vision tower,
16 px tiles, one 16x16 pinpoint, a 45x45 image of 3 tiles, 10 image tokens); both variants get the same values.
"""

import unittest
import unittest.mock

import torch
from transformers import (
    LlavaOnevisionConfig,
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionModel,
)
from transformers.models.auto import modeling_auto
from transformers_sdist_tests.generation.test_utils import GenerationTesterMixin
from transformers_sdist_tests.test_modeling_common import ModelTesterMixin, floats_tensor, ids_tensor

import mmreason.model.checkpoint_formats
from mmreason.model import MMReasonConfig, MMReasonForConditionalGeneration, MMReasonModel

# `ModelTesterMixin` tells a base model (no head, no loss: not trained; the rope-scaling model) and a causal-LM head
# (the `shift_labels` test) from transformers' static lists of its own classes per Auto class. A model registered
# with `AutoModel.register` & co (the public way, done by `import mmreason`) is in the Auto mappings but not in those
# lists: add mmreason's classes to each list from the registered mapping itself.
for _names in [name for name in dir(modeling_auto) if name.endswith("_MAPPING_NAMES")]:
    _mapping = getattr(modeling_auto, _names.removesuffix("_NAMES"), None)
    if _mapping is not None and MMReasonConfig in _mapping:
        getattr(modeling_auto, _names).setdefault(MMReasonConfig.model_type, _mapping[MMReasonConfig].__name__)


TEXT_CONFIG = {
    "model_type": "qwen2",
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "intermediate_size": 37,
    "hidden_act": "gelu",
    "max_position_embeddings": 580,
    "initializer_range": 0.02,
    "pad_token_id": 0,
}
VISION_CONFIG = {
    "model_type": "siglip_vision_model",
    "image_size": 16,
    "patch_size": 8,
    "num_channels": 3,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "attention_dropout": 0.1,
}


class LlavaOnevisionTinyTester:
    """Builds the config and the common inputs for one config class (what `ModelTesterMixin` calls)."""

    def __init__(self, parent: unittest.TestCase, config_class: type):
        self.parent, self.config_class = parent, config_class
        self.batch_size, self.num_image_tokens, self.text_length = 3, 10, 7
        self.seq_length = self.text_length + self.num_image_tokens
        self.image_token_index, self.pad_token_id = 1, 0
        self.vocab_size, self.hidden_size = TEXT_CONFIG["vocab_size"], TEXT_CONFIG["hidden_size"]
        self.num_hidden_layers = TEXT_CONFIG["num_hidden_layers"]
        self.num_attention_heads = TEXT_CONFIG["num_attention_heads"]
        self.is_training = True

    def get_config(self):
        return self.config_class(
            text_config=dict(TEXT_CONFIG),
            vision_config=dict(VISION_CONFIG),
            image_token_index=self.image_token_index,
            projector_hidden_act="gelu",
            vision_feature_select_strategy="full",
            vision_feature_layer=-1,
            vision_aspect_ratio="anyres_max_9",
            image_grid_pinpoints=[[16, 16]],
        )

    def prepare_config_and_inputs_for_common(self):
        config = self.get_config()
        pixel_values = floats_tensor([self.batch_size, 3, 3, VISION_CONFIG["image_size"], VISION_CONFIG["image_size"]])
        input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size - 2) + 2
        input_ids[:, : self.num_image_tokens] = self.image_token_index
        labels = torch.zeros((self.batch_size, self.seq_length), dtype=torch.long)
        labels[:, : self.num_image_tokens] = -100
        return config, {
            "pixel_values": pixel_values,
            "image_sizes": torch.tensor([[45, 45]] * self.batch_size),
            "input_ids": input_ids,
            "attention_mask": torch.ones(input_ids.shape, dtype=torch.long),
            "labels": labels,
        }


class _LlavaOnevisionPeerTest(ModelTesterMixin, GenerationTesterMixin):
    config_class: type
    test_pruning = False
    test_head_masking = False
    test_torch_exportable = False  # the export suite is not in the sdist
    _is_composite = True
    # Run `test_can_init_all_missing_weights` for both variants (by default it depends on a copyright year).
    test_can_init_all_missing_weights_before_2023 = True

    def setUp(self):
        self.model_tester = LlavaOnevisionTinyTester(self, self.config_class)


class StockLlavaOnevisionTest(_LlavaOnevisionPeerTest, unittest.TestCase):
    config_class = LlavaOnevisionConfig
    all_model_classes = (LlavaOnevisionModel, LlavaOnevisionForConditionalGeneration)


class MMReasonTest(_LlavaOnevisionPeerTest, unittest.TestCase):
    config_class = MMReasonConfig
    all_model_classes = (MMReasonModel, MMReasonForConditionalGeneration)


class MMReasonLenientLoadTest(MMReasonTest):
    """`MMReasonTest` with mmreason's own load check lifted (it raises where transformers warns about missing or
    unused tensors), so that the tests which fail only on that check show what transformers' loading does under it."""

    def setUp(self):
        super().setUp()
        patcher = unittest.mock.patch.object(
            mmreason.model.checkpoint_formats, "check_loading_info", lambda *a, **k: None
        )
        patcher.start()
        self.addCleanup(patcher.stop)
