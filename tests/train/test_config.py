import pytest

from mmreason.train import STAGE_PRESETS, RationaleSFTConfig

COMMON = {"output_dir": "unused", "use_cpu": True, "bf16": False, "report_to": "none"}


@pytest.mark.parametrize("stage", ["pretrain", "si", "ov"])
def test_stage_presets_fill_defaults(stage):
    config = RationaleSFTConfig(stage=stage, **COMMON)
    for key, value in STAGE_PRESETS[stage].items():
        assert getattr(config, key) == value, key
    assert config.lr_scheduler_type == "cosine" and config.warmup_steps == 0.03 and config.weight_decay == 0.0


def test_stage_table():
    pretrain, si, ov = (RationaleSFTConfig(stage=s, **COMMON) for s in ("pretrain", "si", "ov"))
    assert (pretrain.tunable_parts, pretrain.learning_rate, pretrain.chat_template_name) == (
        ["mm_mlp_adapter"],
        1e-3,
        "plain",
    )
    assert si.tunable_parts == ["mm_vision_tower", "mm_mlp_adapter", "mm_language_model"]
    assert (si.learning_rate, si.mm_vision_tower_lr, si.max_length, si.group_by_modality_length) == (
        1e-5,
        2e-6,
        8192,
        True,
    )
    assert ov.max_length == 16384
    # geometry is the checkpoint's unless set explicitly: no preset touches it
    for config in (pretrain, si, ov):
        assert (config.vision_aspect_ratio, config.frames_upbound) == (None, None)


def test_explicit_values_win_over_the_preset():
    config = RationaleSFTConfig(stage="si", learning_rate=3e-5, max_length=4096, mm_vision_tower_lr=1e-6, **COMMON)
    assert (config.learning_rate, config.max_length, config.mm_vision_tower_lr) == (3e-5, 4096, 1e-6)


def test_bad_values_raise():
    with pytest.raises(ValueError, match="stage must be one of"):
        RationaleSFTConfig(stage="sft", **COMMON)
    with pytest.raises(ValueError, match="unknown mm_tunable_parts"):
        RationaleSFTConfig(mm_tunable_parts="mm_vision_tower,mm_projector", **COMMON)
