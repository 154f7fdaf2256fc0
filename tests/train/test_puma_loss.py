"""PUMA loss: `faithful` against numbers from a literal transcription of the released `VTATrainer.compute_loss`
(fixtures/puma_faithful_loss.json, its `note` says how), `corrected` against a hand computation with explicit loops,
chunked against unchunked (values and gradients)."""

import json
import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.train.puma_loss import causal_lm_ce, kl_peak_bytes, kl_sums, puma_loss

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "puma_faithful_loss.json").read_text())


def fixture_tensors():
    f = FIXTURE
    return (
        torch.tensor(f["logits_act"], dtype=torch.float64),
        torch.tensor(f["labels_act"]),
        torch.tensor(f["logits_ref"], dtype=torch.float64),
        torch.tensor(f["labels_ref"]),
    )


@pytest.mark.parametrize(
    "case", FIXTURE["cases"], ids=lambda c: f"a{c['alpha_kl']}-l{c['lambda_kl']}-T{c['temperature_kl']}"
)
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_faithful_equals_the_released_formula(case, chunk_size):
    logits_act, labels_act, logits_ref, labels_ref = fixture_tensors()
    t2 = case["temperature_kl"] ** 2
    out = puma_loss(
        logits_act, labels_act, logits_ref, labels_ref, mode="faithful", alpha=case["alpha_kl"],
        lam=case["lambda_kl"], temperature=case["temperature_kl"], chunk_size=chunk_size,
    )  # fmt: skip
    assert out.ce.item() == pytest.approx(FIXTURE["hard_loss"], rel=1e-6)
    assert (out.kl_student_teacher * t2).item() == pytest.approx(case["fkl"], rel=1e-9)  # released `fkl`
    assert (out.kl_teacher_student * t2).item() == pytest.approx(case["rkl"], rel=1e-9)  # released `rkl`
    assert out.kl.item() == pytest.approx(case["kl_loss"], rel=1e-9)
    assert out.loss.item() == pytest.approx(case["total_loss"], rel=1e-6)
    assert out.num_positions == 9


def hand_corrected(logits_w, labels_w, logits_s, labels_s, alpha, lam, temperature):
    """The corrected loss written out position by position (python floats)."""

    def dist(row):
        values = [float(v) for v in row]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        scaled = [((v - mean) / (std + 1e-6)) / temperature for v in values]
        top = max(scaled)
        norm = sum(math.exp(v - top) for v in scaled)
        return [math.exp(v - top) / norm for v in scaled]

    def predicting(labels):  # (row, column) of the logits predicting each answer token
        return [[(b, t - 1) for t in range(1, len(labels[b])) if labels[b][t] != -100] for b in range(len(labels))]

    kl_sw = kl_ws = 0.0
    count = 0
    ce = 0.0
    for row_w, row_s in zip(predicting(labels_w.tolist()), predicting(labels_s.tolist())):
        assert len(row_w) == len(row_s)
        for (b, tw), (_, ts) in zip(row_w, row_s):
            p_w, p_s = dist(logits_w[b, tw]), dist(logits_s[b, ts])
            kl_sw += sum(ps * math.log(ps / pw) for ps, pw in zip(p_s, p_w))
            kl_ws += sum(pw * math.log(pw / ps) for ps, pw in zip(p_s, p_w))
            raw = [float(v) for v in logits_w[b, tw]]
            target = int(labels_w[b, tw + 1])
            ce += math.log(sum(math.exp(v) for v in raw)) - raw[target]
            count += 1
    kl = temperature**2 * (alpha * kl_sw / count + (1 - alpha) * kl_ws / count)
    return lam * kl + (1 - lam) * ce / count, kl


@pytest.mark.parametrize(("alpha", "lam", "temperature"), [(0.5, 0.1, 1.0), (0.2, 0.6, 2.0)])
def test_corrected_equals_a_hand_computation(alpha, lam, temperature):
    logits_w, labels_w, logits_s, labels_s = fixture_tensors()
    total, kl = hand_corrected(logits_w, labels_w, logits_s, labels_s, alpha, lam, temperature)
    out = puma_loss(
        logits_w, labels_w, logits_s, labels_s, mode="corrected", alpha=alpha, lam=lam, temperature=temperature
    )
    assert out.kl.item() == pytest.approx(kl, rel=1e-9)
    assert out.loss.item() == pytest.approx(total, rel=1e-9)
    assert out.num_positions == 9


def test_misaligned_answers_are_refused():
    logits_w, labels_w, logits_s, labels_s = fixture_tensors()
    labels_s = labels_s.clone()
    labels_s[1, labels_s[1] != -100] = 0
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        puma_loss(logits_w, labels_w, logits_s, labels_s)


def test_ce_equals_transformers_causal_lm_loss():
    from transformers.loss.loss_utils import ForCausalLMLoss

    logits_w, labels_w, _, _ = fixture_tensors()
    expected = ForCausalLMLoss(logits_w.float(), labels_w, logits_w.shape[-1])
    assert causal_lm_ce(logits_w.float(), labels_w, chunk_size=2).item() == pytest.approx(expected.item(), rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 17),
    vocab=st.integers(2, 40),
    chunk=st.integers(1, 20),
    temperature=st.sampled_from([0.5, 1.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_chunked_equals_unchunked(rows, vocab, chunk, temperature, seed):
    generator = torch.Generator().manual_seed(seed)
    student = (torch.randn(rows, vocab, generator=generator, dtype=torch.float64) * 4).requires_grad_(True)
    teacher = torch.randn(rows, vocab, generator=generator, dtype=torch.float64) * 4
    weights = torch.tensor([0.3, 0.7], dtype=torch.float64)
    full = kl_sums(student, teacher, temperature)
    (grad_full,) = torch.autograd.grad((full * weights).sum(), student)
    chunked = kl_sums(student, teacher, temperature, chunk_size=chunk)
    (grad_chunked,) = torch.autograd.grad((chunked * weights).sum(), student)
    torch.testing.assert_close(chunked, full, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad_chunked, grad_full, rtol=1e-10, atol=1e-12)


def test_puma_loss_gradient_chunked_equals_unchunked():
    logits_w, labels_w, logits_s, labels_s = fixture_tensors()
    grads = []
    for chunk in (None, 1, 4):
        student = logits_w.clone().requires_grad_(True)
        for mode in ("faithful", "corrected"):
            puma_loss(student, labels_w, logits_s, labels_s, mode=mode, chunk_size=chunk).loss.backward()
        grads.append(student.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grads[2], grads[0], rtol=1e-10, atol=1e-12)


def test_chunking_bounds_kl_memory():
    """Memory beyond the inputs: unchunked holds several NxV float32 tensors, chunked the gradient plus one chunk."""
    rows, vocab = 256, 4096
    one = rows * vocab * 4  # one NxV float32 tensor
    unchunked = kl_peak_bytes(vocab_size=vocab, num_positions=rows, chunk_size=None, dtype=torch.float32)
    chunked = kl_peak_bytes(vocab_size=vocab, num_positions=rows, chunk_size=16, dtype=torch.float32)
    assert unchunked > 4 * one
    assert chunked < 2 * one  # the gradient buffer (one NxV) + chunk intermediates (16/256 of NxV each)
