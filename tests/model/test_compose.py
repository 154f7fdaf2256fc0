"""compose_pretrained: a SigLIP checkpoint + a Qwen2 chat LM -> the stage-1 starting point, weights copied exactly."""

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM, SiglipConfig, SiglipModel

from mmreason.model import compose_pretrained
from mmreason.testing import SPECIAL_TOKENS, build_tokenizer, make_image


def test_compose_siglip_and_qwen2(tmp_path):
    torch.manual_seed(0)
    siglip = SiglipModel(SiglipConfig(
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "vocab_size": 99},
    ))  # fmt: skip
    siglip.save_pretrained(tmp_path / "siglip")
    tokenizer = build_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS[:2]}, replace_extra_special_tokens=True)
    lm = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=259, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, tie_word_embeddings=False,
    ))  # fmt: skip
    lm.save_pretrained(tmp_path / "qwen")
    tokenizer.save_pretrained(tmp_path / "qwen")

    model, processor = compose_pretrained(str(tmp_path / "siglip"), str(tmp_path / "qwen"))
    assert model.config.vision_config.num_hidden_layers == 2  # the last SigLIP layer is dropped, as LLaVA-NeXT does
    tower = dict(model.model.vision_tower.named_parameters())
    for name, param in siglip.vision_model.named_parameters():
        if not name.startswith("encoder.layers.2."):
            assert torch.equal(tower[name], param), name
    assert torch.equal(model.model.language_model.layers[1].mlp.up_proj.weight, lm.model.layers[1].mlp.up_proj.weight)
    assert torch.equal(model.lm_head.weight[:259], lm.lm_head.weight)
    assert model.config.text_config.vocab_size == len(processor.tokenizer)  # <image>/<video> added, resized
    messages = [
        {"role": "user", "content": [{"type": "image", "image": make_image(50, 40)}, {"type": "text", "text": "Hi"}]}
    ]
    inputs = processor.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    assert model(**inputs).logits.shape[-1] == len(processor.tokenizer)
