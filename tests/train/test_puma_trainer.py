"""PUMATrainer on PUMA pair rows: its loss and gradients against the formula written out in the test on a stock
`LlavaOnevisionForConditionalGeneration` with copied weights; Stage-2 freezing; a stock model trained directly."""

import math

import datasets
import pytest
import torch
from transformers import AutoModelForImageTextToText

from mmreason.testing import build_tiny, make_image
from mmreason.train import PUMAConfig, PUMATrainer
from mmreason.train.modules import part_of

from ..model.stock import stock_copy

ANSWERS = ["The area is 12.\nAnswer: 12", "x = 3", "Both angles are 45 degrees, so the answer is B."]


def user(text, image=True):
    parts = [{"type": "text", "text": text}] + ([{"type": "image"}] if image else [])
    return {"role": "user", "content": parts}


def assistant(text):
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def pair_rows(n=6):
    """PUMA pair rows in the agreed form: a text-rich side (text-only or with an image) and a vision-rich side."""
    rows = []
    for i in range(n):
        answer = ANSWERS[i % len(ANSWERS)]
        text_image = i % 2 == 1
        rows.append({
            "id": f"pair-{i}", "source": "test", "answer": answer,
            "text_rich": [user(f"A rectangle has sides 3 and 4 (problem {i}). What is its area?", text_image),
                          assistant(answer)],
            "text_rich_images": [make_image(40 + 8 * i, 30, seed=i)] if text_image else [],
            "vision_rich": [user("Answer the question in the image."), assistant(answer)],
            "vision_rich_images": [make_image(60, 44 + 6 * i, seed=100 + i)],
        })  # fmt: skip
    return rows


def pair_features():
    text = datasets.Value("string")
    messages = datasets.List({"role": text, "content": datasets.List({"type": text, "text": text})})
    return datasets.Features({
        "id": text, "source": text, "answer": text,
        "text_rich": messages, "text_rich_images": datasets.List(datasets.Image()),
        "vision_rich": messages, "vision_rich_images": datasets.List(datasets.Image()),
    })  # fmt: skip


def pair_dataset(n=6):
    return datasets.Dataset.from_list(pair_rows(n), features=pair_features())


def _args(tmp_path, **kwargs):
    base = dict(
        output_dir=str(tmp_path), use_cpu=True, report_to="none", logging_steps=1, save_strategy="no",
        per_device_train_batch_size=3, max_steps=2, seed=0, dataloader_num_workers=0, max_length=None,
    )  # fmt: skip
    return PUMAConfig(**{**base, **kwargs})


def reference_loss(stock, batch, mode, alpha, lam, temperature):
    """The PUMA loss written out row by row from the stock model's full logits and its own `.loss` (CE)."""
    teacher, student = dict(batch["teacher"]), dict(batch["student"])
    with torch.no_grad():
        t_logits = stock(**teacher).logits
    s_out = stock(**student)
    total = s_out.logits.new_zeros(())
    count = 0
    for row in range(student["labels"].shape[0]):
        t_lab, s_lab = teacher["labels"][row], student["labels"][row]
        if mode == "corrected":  # logits at t-1 predict the label at t
            t_cols = [c - 1 for c in range(1, len(t_lab)) if t_lab[c] != -100]
            s_cols = [c - 1 for c in range(1, len(s_lab)) if s_lab[c] != -100]
        else:
            t_cols = [c for c in range(len(t_lab)) if t_lab[c] != -100]
            s_cols = [c for c in range(len(s_lab)) if s_lab[c] != -100]
        assert len(t_cols) == len(s_cols) > 0
        for tc, sc in zip(t_cols, s_cols):
            zt, zs = t_logits[row, tc], s_out.logits[row, sc]
            zt = (zt - zt.mean()) / (zt.std() + 1e-6) / temperature
            zs = (zs - zs.mean()) / (zs.std() + 1e-6) / temperature
            log_pt, log_ps = zt - torch.logsumexp(zt, 0), zs - torch.logsumexp(zs, 0)
            kl_ws = (log_ps.exp() * (log_ps - log_pt)).sum()  # KL(student || teacher)
            kl_sw = (log_pt.exp() * (log_pt - log_ps)).sum()  # KL(teacher || student)
            if mode == "corrected":
                total = total + alpha * kl_sw + (1 - alpha) * kl_ws
            else:
                total = total + alpha * kl_ws + (1 - alpha) * kl_sw
            count += 1
    rows = student["labels"].shape[0]
    t2 = temperature**2
    if mode == "corrected":
        return lam * t2 * total / count + (1 - lam) * s_out.loss
    return lam * t2 * t2 * total / rows + (1 - lam) * s_out.loss


@pytest.mark.parametrize(
    ("mode", "alpha", "lam", "temperature"), [("faithful", 0.5, 0.1, 1.0), ("faithful", 0.3, 0.6, 2.0),
                                              ("corrected", 0.3, 0.6, 2.0)]
)  # fmt: skip
def test_loss_and_gradients_equal_the_formula_on_stock_llava_onevision(tmp_path, mode, alpha, lam, temperature):
    model, processor = build_tiny(seed=3)
    stock = stock_copy(model)
    args = _args(
        tmp_path, loss_mode=mode, alpha_kl=alpha, lambda_kl=lam, temperature_kl=temperature, kl_chunk_size=3,
        activation_checkpointing=False,
    )  # fmt: skip
    trainer = PUMATrainer(model=model, args=args, train_dataset=pair_dataset(), processing_class=processor)
    batch = trainer.data_collator(pair_rows(3))
    model.train()
    loss = trainer.compute_loss(model, batch)
    loss.backward()
    stock.train()
    for name, param in stock.named_parameters():
        param.requires_grad_(model.get_parameter(name).requires_grad)
    expected = reference_loss(stock, batch, mode, alpha, lam, temperature)
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    compared = 0
    for name, param in model.named_parameters():
        if param.grad is not None:
            torch.testing.assert_close(param.grad, stock.get_parameter(name).grad, rtol=1e-4, atol=1e-6)
            compared += 1
    assert compared > 0
    assert math.isfinite(trainer._metrics["train"]["kl"][-1])


def test_stage2_trains_vision_tower_and_projector_only(tmp_path):
    model, processor = build_tiny(seed=1)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    args = _args(tmp_path, learning_rate=1e-3, warmup_steps=0)
    assert args.stage == "stage2" and args.weight_decay == 0.1 and args.lr_scheduler_type == "cosine"
    trainer = PUMATrainer(model=model, args=args, train_dataset=pair_dataset(), processing_class=processor)
    trainer.train()
    for name, param in model.named_parameters():
        changed = not torch.equal(before[name], param.detach())
        unused = name.startswith(("model.vision_tower.post_layernorm", "model.vision_tower.head"))
        assert changed == (part_of(name) in {"mm_vision_tower", "mm_mlp_adapter"} and not unused), name
    logged = [entry for entry in trainer.state.log_history if "kl" in entry]
    assert logged and all(
        key in logged[0] for key in ("loss", "kl", "ce", "kl_student_teacher", "kl_teacher_student", "kl_positions")
    )


def test_mismatched_and_overlong_pairs_are_dropped(tmp_path):
    model, processor = build_tiny(seed=1)
    rows = pair_rows(4)
    rows[1]["vision_rich"] = [rows[1]["vision_rich"][0], assistant("something else")]
    rows[2]["text_rich"] = [user("long " * 400, False), rows[2]["text_rich"][1]]
    dataset = datasets.Dataset.from_list(rows, features=pair_features())
    trainer = PUMATrainer(model=model, args=_args(tmp_path, max_length=1000), train_dataset=dataset,
                          processing_class=processor)  # fmt: skip
    assert dict(trainer.dropped_samples) == {"answer_mismatch": 1, "over_length": 1}
    assert trainer.train_dataset["id"] == ["pair-0", "pair-3"]


def test_collator_refuses_unaligned_answers(tmp_path):
    model, processor = build_tiny(seed=1)
    trainer = PUMATrainer(model=model, args=_args(tmp_path), processing_class=processor)
    rows = pair_rows(2)
    rows[1]["text_rich"] = [rows[1]["text_rich"][0], assistant("different")]
    with pytest.raises(ValueError, match="pair-1"):
        trainer.data_collator(rows)


def test_trains_a_stock_llava_onevision_model(tmp_path):
    model, processor = build_tiny(seed=2)
    stock = stock_copy(model)
    before = {name: p.detach().clone() for name, p in stock.named_parameters()}
    args = _args(tmp_path / "run", learning_rate=1e-3, warmup_steps=0, loss_mode="corrected")
    trainer = PUMATrainer(model=stock, args=args, train_dataset=pair_dataset(), processing_class=processor)
    trainer.train()
    changed = {part_of(n) for n, p in stock.named_parameters() if not torch.equal(before[n], p.detach())}
    assert changed == {"mm_vision_tower", "mm_mlp_adapter"}
    trainer.save_model(str(tmp_path / "saved"))
    reloaded = AutoModelForImageTextToText.from_pretrained(str(tmp_path / "saved"))
    assert type(reloaded).__name__ == "LlavaOnevisionForConditionalGeneration"
    for name, param in stock.named_parameters():
        torch.testing.assert_close(reloaded.get_parameter(name), param.detach(), rtol=0, atol=0)


def test_teacher_side_runs_without_autograd(tmp_path):
    """The text-rich forward builds no graph (memory); the vision-rich forward does."""
    model, processor = build_tiny(seed=1)
    trainer = PUMATrainer(model=model, args=_args(tmp_path), processing_class=processor)
    batch = trainer.data_collator(pair_rows(2))
    calls = []
    model.register_forward_pre_hook(
        lambda module, args, kwargs: calls.append((kwargs["input_ids"].shape, torch.is_grad_enabled())),
        with_kwargs=True,
    )
    model.train()
    trainer.compute_loss(model, batch)
    assert calls == [(batch["teacher"]["input_ids"].shape, False), (batch["student"]["input_ids"].shape, True)]


def test_evaluate_reports_the_loss_and_its_parts(tmp_path):
    model, processor = build_tiny(seed=1)
    trainer = PUMATrainer(model=model, args=_args(tmp_path), eval_dataset=pair_dataset(3), processing_class=processor)
    metrics = trainer.evaluate()
    batch = trainer.data_collator(pair_rows(3))
    model.eval()
    with torch.no_grad():
        expected = trainer.compute_loss(model, batch).item()
    assert metrics["eval_loss"] == pytest.approx(expected, rel=1e-5)
    assert {"eval_kl", "eval_ce", "eval_kl_positions"} <= set(metrics)


def test_lora_trains_adapters_and_the_projector(tmp_path):
    from mmreason.train import lora_config

    model, processor = build_tiny(seed=1)
    args = _args(tmp_path, learning_rate=1e-3, warmup_steps=0)
    trainer = PUMATrainer(
        model=model, args=args, train_dataset=pair_dataset(), processing_class=processor,
        peft_config=lora_config(r=4, alpha=8, dropout=0.0),
    )  # fmt: skip
    wrapped = trainer.model
    before = {name: p.detach().clone() for name, p in wrapped.named_parameters()}
    trainer.train()
    changed = {name for name, p in wrapped.named_parameters() if not torch.equal(before[name], p.detach())}
    assert changed and all("lora_" in name or "multi_modal_projector" in name or "image_newline" in name
                           for name in changed)  # fmt: skip
    assert any("image_newline" in name for name in changed)
