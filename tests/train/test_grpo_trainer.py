"""`ReasoningGRPOTrainer` on the tiny model: the two TRL 1.16 failures (beta > 0 with the processor's
`batch_num_images`; prompts with two images) are gone — training steps run, and the per-token log-probs of the
trainer's pass equal a plain forward's (log-softmax of the model's logits), chunked or not."""

import datasets
import pytest
import torch

from mmreason.rewards import AccuracyReward, FormatReward
from mmreason.testing import build_tiny, make_image
from mmreason.train import ReasoningGRPOConfig, ReasoningGRPOTrainer


def _row(images, index):
    content = [*([{"type": "image"}] * images), {"type": "text", "text": f"How many images? {index}"}]
    return {"prompt": [{"role": "user", "content": content}],
            "images": [make_image(40 + 3 * k, 30 + k) for k in range(images)], "answer": str(images)}  # fmt: skip


def _trainer(tmp_path, beta, images=(1, 2), steps=2, seed=3):
    model, processor = build_tiny(seed=seed)
    rows = datasets.Dataset.from_list([_row(images[i % len(images)], i) for i in range(4)])
    args = ReasoningGRPOConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, max_steps=steps, per_device_train_batch_size=2,
        num_generations=2, max_completion_length=6, report_to="none", beta=beta, gradient_checkpointing=False,
        learning_rate=1e-2, logging_steps=1, save_strategy="no", temperature=1.0,
    )  # fmt: skip
    rewards = [AccuracyReward("procedural"), FormatReward()]
    return ReasoningGRPOTrainer(model=model, reward_funcs=rewards, args=args, train_dataset=rows,
                                processing_class=processor)  # fmt: skip


@pytest.mark.parametrize("beta", [0.0, 0.1])
def test_steps_run_with_two_image_prompts_and_beta(tmp_path, beta):
    trainer = _trainer(tmp_path, beta)
    assert (trainer.ref_model is not None) == (beta > 0)
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logged) == 2 and all(torch.isfinite(torch.tensor(entry["loss"])) for entry in logged)
    assert all(("kl" in entry) == (beta > 0) for entry in logged)  # TRL logs the KL only with a reference


def test_reference_is_a_frozen_copy_not_a_reload(tmp_path):
    trainer = _trainer(tmp_path, beta=0.1)
    policy = trainer.accelerator.unwrap_model(trainer.model)
    reference = trainer.accelerator.unwrap_model(trainer.ref_model)
    assert reference is not policy and not any(p.requires_grad for p in reference.parameters())
    for (name, a), (_, b) in zip(policy.named_parameters(), reference.named_parameters()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("batch_size", [None, 1])
def test_per_token_logps_equal_a_plain_forward(tmp_path, batch_size):
    trainer = _trainer(tmp_path, beta=0.1, steps=1)
    processor, model = trainer.processing_class, trainer.accelerator.unwrap_model(trainer.model).eval()
    rows = [_row(2, 0), _row(1, 1)]
    texts = [processor.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=False) for r in rows]
    prompt = processor(images=[r["images"] for r in rows], text=texts, padding=True, padding_side="left",
                       return_tensors="pt")  # fmt: skip
    completion = torch.randint(0, 200, (2, 5), generator=torch.Generator().manual_seed(0))
    input_ids = torch.cat([prompt["input_ids"], completion], dim=1)
    attention_mask = torch.cat([prompt["attention_mask"], torch.ones_like(completion)], dim=1)
    extra = {k: v for k, v in prompt.items() if k not in ("input_ids", "attention_mask")}
    assert extra["batch_num_images"].tolist() == [2, 1]
    with torch.no_grad():
        got, _, _ = trainer._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, 5, batch_size=batch_size, num_images=[2, 1], **extra
        )
        logits = model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits[:, -6:-1]
    expected = torch.log_softmax(logits.float(), dim=-1).gather(-1, completion.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
