"""A tiny LLaVA-NeXT-format release, written independently of mmreason's exporter.

It mirrors lmms-lab/llava-onevision-qwen2-*-ov and MAmmoTH-VL-8B: a Qwen2 `config.json` with the released `mm_*`
fields (`model_type: "llava"`, as edited for SGLang), the Qwen tokenizer *without* `<image>`, and safetensors shards
with the released key names. The SigLIP tower's config lives only in an HF-cache-layout folder under the Hub id
`google/siglip-so400m-patch14-384`, as on a user's machine with a warm cache.
"""

import json
import re
from pathlib import Path

from safetensors.torch import save_file

from mmreason.testing import SPECIAL_TOKENS

TOWER_ID = "google/siglip-so400m-patch14-384"
TOWER_LAYERS_ON_HUB = 4  # LLaVA-NeXT deletes the last one: the checkpoint has 3


def write_hf_cache(cache_dir: Path) -> Path:
    """`<cache>/models--google--siglip-so400m-patch14-384/{refs/main, snapshots/<sha>/config.json}`."""
    sha = "9fdffc58afc957d1a03a25b10dba0329ab15c2a3"
    repo = cache_dir / ("models--" + TOWER_ID.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(sha)
    snapshot = repo / "snapshots" / sha
    snapshot.mkdir(parents=True, exist_ok=True)
    config = {  # the released SiglipModel config (text + vision), with tiny sizes
        "architectures": ["SiglipModel"],
        "initializer_factor": 1.0,
        "model_type": "siglip",
        "text_config": {
            "hidden_size": 32,
            "intermediate_size": 64,
            "model_type": "siglip_text_model",
            "num_attention_heads": 2,
            "num_hidden_layers": 2,
            "vocab_size": 100,
        },
        "vision_config": {
            "hidden_size": 32,
            "image_size": 32,
            "intermediate_size": 64,
            "model_type": "siglip_vision_model",
            "num_attention_heads": 2,
            "num_hidden_layers": TOWER_LAYERS_ON_HUB,
            "patch_size": 8,
        },
    }
    (snapshot / "config.json").write_text(json.dumps(config))
    return cache_dir


def released_keys(state_dict: dict) -> dict:
    """mmreason parameter names -> the names in LLaVA-NeXT's released safetensors."""
    renames = [
        (r"^model\.language_model\.", "model."),
        (r"^model\.vision_tower\.", "model.vision_tower.vision_tower.vision_model."),
        (r"^model\.multi_modal_projector\.linear_1\.", "model.mm_projector.0."),
        (r"^model\.multi_modal_projector\.linear_2\.", "model.mm_projector.2."),
    ]
    out = {}
    for key, tensor in state_dict.items():
        for pattern, target in renames:
            key = re.sub(pattern, target, key)
        out[key] = tensor.detach().clone().contiguous()
    return out


def write_llava_next_checkpoint(model, path: Path, model_type: str = "llava", shards: int = 2, **overrides) -> Path:
    """Save `model`'s weights as a LLaVA-NeXT release (`image_token_index` must be `len(tokenizer)` as built here)."""
    path.mkdir(parents=True, exist_ok=True)
    config, text = model.config, model.config.text_config
    tokenizer = released_tokenizer()
    released = {
        "_name_or_path": "/mnt/bn/vl-research/checkpoints/onevision/llavanext-google_siglip-so400m-patch14-384-Qwen",
        "architectures": ["LlavaQwenForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": None,
        "eos_token_id": tokenizer.convert_tokens_to_ids("<|im_end|>"),
        "hidden_act": text.hidden_act,
        "hidden_size": text.hidden_size,
        "image_aspect_ratio": config.vision_aspect_ratio,
        "image_crop_resolution": None,
        "image_grid_pinpoints": "(1x1),...,(3x3)",
        "image_split_resolution": None,
        "initializer_range": 0.02,
        "intermediate_size": text.intermediate_size,
        "max_position_embeddings": 32768,
        "max_window_layers": 28,
        "mm_hidden_size": config.vision_config.hidden_size,
        "mm_newline_position": "one_token",
        "mm_patch_merge_type": "spatial_unpad",
        "mm_projector_lr": None,
        "mm_projector_type": "mlp2x_gelu",
        "mm_resampler_type": None,
        "mm_spatial_pool_mode": "bilinear",
        "mm_tunable_parts": "mm_vision_tower,mm_mlp_adapter,mm_language_model",
        "mm_use_im_patch_token": False,
        "mm_use_im_start_end": False,
        "mm_vision_select_feature": "patch",
        "mm_vision_select_layer": -2,
        "mm_vision_tower": TOWER_ID,
        "mm_vision_tower_lr": 2e-06,
        "model_type": model_type,
        "num_attention_heads": text.num_attention_heads,
        "num_hidden_layers": text.num_hidden_layers,
        "num_key_value_heads": text.num_key_value_heads,
        "pos_skipping_range": 4096,
        "rms_norm_eps": text.rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": text.rope_parameters["rope_theta"],
        "sliding_window": 131072,
        "tie_word_embeddings": False,
        "tokenizer_model_max_length": 32768,
        "tokenizer_padding_side": "right",
        "torch_dtype": "float32",
        "transformers_version": "4.40.0.dev0",
        "use_cache": True,
        "use_mm_proj": True,
        "use_pos_skipping": False,
        "use_sliding_window": False,
        "vision_tower_pretrained": None,
        "vocab_size": text.vocab_size,
        **overrides,
    }
    (path / "config.json").write_text(json.dumps(released, indent=2))
    tensors = released_keys(model.state_dict())
    names = sorted(tensors)
    index, per_shard = {}, -(-len(names) // shards)
    for i in range(shards):
        filename = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        chunk = {name: tensors[name] for name in names[i * per_shard : (i + 1) * per_shard]}
        save_file(chunk, str(path / filename), metadata={"format": "pt"})
        index.update(dict.fromkeys(chunk, filename))
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    (path / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": index})
    )
    tokenizer.save_pretrained(path)
    return path


def released_tokenizer():
    """`mmreason.testing.build_tokenizer()` as the release ships it: no <image>/<video> (added last there)."""
    from transformers import Qwen2Tokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {"<|endoftext|>": 0}
    for symbol in bytes_to_unicode().values():
        vocab[symbol] = len(vocab)
    released = Qwen2Tokenizer(vocab=vocab, merges=[])
    assert SPECIAL_TOKENS[-2:] == ["<image>", "<video>"]
    released.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS[:-2]})
    released.eos_token = "<|im_end|>"
    return released
