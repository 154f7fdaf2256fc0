"""Math-PUMA's KL alignment loss between a text-rich (teacher) and a vision-rich (student) view of one problem.

Both views end in the same answer, so their answer positions align one to one. At each aligned position the
logits are z-scored over the vocabulary ("logit standardisation"), divided by the temperature T, and the two
directions of KL are mixed; the student's cross-entropy is added:

* `faithful` — the released `VTATrainer.compute_loss` (wwzhuang01/Math-PUMA `train/vta_trainer.py`) literally:
  positions whose *own* label is not -100 (no next-token shift), KL summed over positions and vocabulary and divided
  by the batch size (`batchmean`), T² applied twice, and the released names, where `fkl` = KL(P_w‖P_s):

      L = λ·T²·[alpha·T²·KL(P_w‖P_s) + (1-alpha)·T²·KL(P_s‖P_w)] / B + (1-λ)·CE

* `corrected` — the logits that predict the answer tokens (position t-1 for the label at t), the KL averaged over
  the aligned tokens, T² once, and alpha on the forward (teacher→student) KL:

      L = λ·T²·[alpha·KL(P_s‖P_w) + (1-alpha)·KL(P_w‖P_s)] / N + (1-λ)·CE

P_s = teacher (text-rich, detached), P_w = student (vision-rich), B = rows, N = aligned tokens, CE = the student's
next-token cross-entropy, a token mean (what a transformers causal LM returns as `.loss`). At alpha = 0.5 the two
modes differ only in the positions, the normalisation and T².

**Memory.** The KL runs over the aligned positions in chunks of `chunk_size`, forward and backward (a custom
autograd function recomputes each chunk in the backward pass and writes its gradient into one buffer), so besides
the logits and their gradient only one chunk's z-scores and log-probabilities (chunk x V) are ever alive, never
BxTxV probability tensors.
[`kl_peak_bytes`] measures that (the benchmark calls it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100
LOSS_MODES = ("faithful", "corrected")
EPS = 1e-6  # the released z-score's epsilon


@dataclass
class PUMALossOutput:
    """The PUMA loss and its parts (all scalars).

    Attributes:
        loss: the total loss.
        kl: the mixed KL term before λ (the released `kl_loss`, T² of `_compute_kl_loss` included).
        kl_student_teacher: KL(P_w‖P_s), normalised as the mode says (the released code's `fkl`, without T²).
        kl_teacher_student: KL(P_s‖P_w), likewise (the released `rkl`, without T²).
        ce: the student's cross-entropy.
        num_positions: aligned positions the KL ran over.
    """

    loss: torch.Tensor
    kl: torch.Tensor
    kl_student_teacher: torch.Tensor
    kl_teacher_student: torch.Tensor
    ce: torch.Tensor
    num_positions: int


def answer_positions(labels: torch.Tensor, shift: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, column) indices of the logits the KL compares: columns whose own label is set (`shift=False`, the
    released code), or the columns just before a set label, which predict it (`shift=True`). Row-major order."""
    mask = labels != IGNORE_INDEX
    if shift:
        mask = torch.cat([mask[:, 1:], torch.zeros_like(mask[:, :1])], dim=1)
    return mask.nonzero(as_tuple=True)


def _answer_ids(labels: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, shift: bool) -> torch.Tensor:
    return labels[rows, cols + 1] if shift else labels[rows, cols]


def gather_aligned(
    student_logits: torch.Tensor,
    student_labels: torch.Tensor,
    teacher_logits: torch.Tensor,
    teacher_labels: torch.Tensor,
    shift: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's and teacher's logits at their aligned answer positions, (N, V) each. Raises `ValueError` when
    a row's answers differ between the two views (the positions would not align)."""
    if student_labels.shape[0] != teacher_labels.shape[0]:
        raise ValueError(f"batch sizes differ: student {student_labels.shape[0]}, teacher {teacher_labels.shape[0]}")
    s_rows, s_cols = answer_positions(student_labels, shift)
    t_rows, t_cols = answer_positions(teacher_labels, shift)
    same = torch.equal(s_rows, t_rows) and torch.equal(
        _answer_ids(student_labels, s_rows, s_cols, shift), _answer_ids(teacher_labels, t_rows, t_cols, shift)
    )
    if not same:
        bad = [
            row for row in range(student_labels.shape[0])
            if not torch.equal(
                student_labels[row][student_labels[row] != IGNORE_INDEX],
                teacher_labels[row][teacher_labels[row] != IGNORE_INDEX],
            )
        ]  # fmt: skip
        raise ValueError(f"rows {bad}: the text-rich and vision-rich answers differ, so their tokens do not align")
    return student_logits[s_rows, s_cols], teacher_logits[t_rows, t_cols]


def standardize(logits: torch.Tensor) -> torch.Tensor:
    """The released per-position z-score over the vocabulary (unbiased std, +1e-6); zero rows stay zero."""
    return (logits - logits.mean(dim=-1, keepdim=True)) / (logits.std(dim=-1, keepdim=True) + EPS)


def _kl_sums(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """[Σ KL(P_w‖P_s), Σ KL(P_s‖P_w)] over the rows of one chunk, in float32 or wider."""
    dtype = torch.promote_types(student.dtype, torch.float32)
    log_w = F.log_softmax(standardize(student.to(dtype)) / temperature, dim=-1)
    log_s = F.log_softmax(standardize(teacher.to(dtype)) / temperature, dim=-1)
    kl_ws = F.kl_div(log_s, log_w, reduction="sum", log_target=True)  # Σ p_w (log p_w - log p_s)
    kl_sw = F.kl_div(log_w, log_s, reduction="sum", log_target=True)
    return torch.stack([kl_ws, kl_sw])


class _ChunkedKL(torch.autograd.Function):
    """`_kl_sums` over row chunks: the forward keeps only its inputs; the backward recomputes one chunk at a time
    and writes its gradient into one preallocated (N, V) buffer."""

    @staticmethod
    def forward(ctx, student, teacher, temperature, chunk_size):
        ctx.save_for_backward(student, teacher)
        ctx.temperature, ctx.chunk_size = temperature, chunk_size
        total = student.new_zeros(2, dtype=torch.promote_types(student.dtype, torch.float32))
        for start in range(0, student.shape[0], chunk_size):
            stop = start + chunk_size
            total += _kl_sums(student[start:stop], teacher[start:stop], temperature)
        return total

    @staticmethod
    def backward(ctx, grad_sums):
        student, teacher = ctx.saved_tensors
        grad = torch.empty_like(student)
        for start in range(0, student.shape[0], ctx.chunk_size):
            stop = start + ctx.chunk_size
            with torch.enable_grad():
                chunk = student[start:stop].detach().requires_grad_(True)
                sums = _kl_sums(chunk, teacher[start:stop], ctx.temperature)
                (grad[start:stop],) = torch.autograd.grad(sums, chunk, grad_sums)
        return grad, None, None, None


def kl_sums(
    student: torch.Tensor, teacher: torch.Tensor, temperature: float = 1.0, chunk_size: int | None = None
) -> torch.Tensor:
    """[Σ KL(P_w‖P_s), Σ KL(P_s‖P_w)] over aligned rows (N, V) of z-scored logits at `temperature`.

    With `chunk_size`, `chunk_size` rows at a time, forward and backward (recomputed there, never stored), so the
    memory beyond the inputs and the student's gradient grows with `chunk_size x V`, not `N x V`."""
    teacher = teacher.detach()
    if not chunk_size or chunk_size >= student.shape[0]:
        return _kl_sums(student, teacher, temperature)
    return _ChunkedKL.apply(student, teacher, temperature, chunk_size)


def causal_lm_ce(logits: torch.Tensor, labels: torch.Tensor, chunk_size: int | None = None) -> torch.Tensor:
    """Next-token cross-entropy, token mean over the set labels (transformers' `ForCausalLMLoss` without
    `num_items_in_batch`), over the predicting positions only, `chunk_size` at a time."""
    rows, cols = answer_positions(labels, shift=True)
    targets = labels[rows, cols + 1]
    if targets.numel() == 0:
        return logits.sum() * 0.0
    picked = logits[rows, cols]
    dtype = torch.promote_types(logits.dtype, torch.float32)
    step = chunk_size or picked.shape[0]
    total = sum(
        F.cross_entropy(picked[i : i + step].to(dtype), targets[i : i + step], reduction="sum")
        for i in range(0, picked.shape[0], step)
    )
    return total / targets.numel()


def puma_loss(
    student_logits: torch.Tensor,
    student_labels: torch.Tensor,
    teacher_logits: torch.Tensor,
    teacher_labels: torch.Tensor,
    mode: str = "faithful",
    alpha: float = 0.5,
    lam: float = 0.1,
    temperature: float = 1.0,
    chunk_size: int | None = None,
    ce: torch.Tensor | None = None,
) -> PUMALossOutput:
    """The PUMA loss (see the module docstring) from the two views' logits (B, T_w, V) / (B, T_s, V) and labels.

    Args:
        student_logits / student_labels: the vision-rich view (gradients flow here).
        teacher_logits / teacher_labels: the text-rich view (detached).
        mode: `faithful` (the released formula) or `corrected`.
        alpha / lam / temperature: alpha, λ and T (released script values 0.5, 0.1, 1.0).
        chunk_size: aligned positions per KL chunk (`None`: all at once).
        ce: the student's cross-entropy if already computed (e.g. the model's `.loss`); else computed here.
    """
    if mode not in LOSS_MODES:
        raise ValueError(f"mode must be one of {LOSS_MODES}, not {mode!r}")
    shift = mode == "corrected"
    student, teacher = gather_aligned(student_logits, student_labels, teacher_logits, teacher_labels, shift)
    sums = kl_sums(student, teacher, temperature, chunk_size)
    count = student.shape[0]
    denominator = max(count, 1) if shift else student_labels.shape[0]
    kl_ws, kl_sw = sums[0] / denominator, sums[1] / denominator
    t2 = temperature**2
    if ce is None:
        ce = causal_lm_ce(student_logits, student_labels, chunk_size)
    if shift:
        kl = t2 * (alpha * kl_sw + (1 - alpha) * kl_ws)
        loss = lam * kl + (1 - lam) * ce
    else:
        kl = t2 * (alpha * kl_ws + (1 - alpha) * kl_sw)  # released: alpha * fkl + (1 - alpha) * rkl
        loss = lam * kl * t2 + (1 - lam) * ce
    return PUMALossOutput(loss, kl, kl_ws, kl_sw, ce, count)


def kl_peak_bytes(
    vocab_size: int = 152064,
    num_positions: int = 1024,
    chunk_size: int | None = 128,
    dtype: torch.dtype = torch.bfloat16,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> int:
    """Peak bytes allocated beyond the two input logits tensors while computing the KL forward and backward on
    random (num_positions, vocab_size) student/teacher logits, chunked or not (`chunk_size=None`).

    Tensor bytes are counted exactly (a `TorchDispatchMode` that tracks every tensor storage alive), so the number
    is the same on CPU and GPU."""
    generator = torch.Generator(device=device).manual_seed(seed)
    student = torch.randn(num_positions, vocab_size, generator=generator, device=device, dtype=dtype)
    teacher = torch.randn(num_positions, vocab_size, generator=generator, device=device, dtype=dtype)
    student.requires_grad_(True)
    with _LiveBytes() as meter:
        kl_sums(student, teacher, 1.0, chunk_size).sum().backward()
    return meter.peak


def _aliases(func: torch._ops.OpOverload) -> bool:
    """Whether an aten op returns (a view of) one of its inputs."""
    return any(ret.alias_info is not None for ret in func._schema.returns)


class _LiveBytes(torch.utils._python_dispatch.TorchDispatchMode):
    """Tracks the bytes of tensor storages created inside the mode and still alive; `peak` is the maximum."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.current = self.peak = 0

    def _release(self, key: int) -> None:
        self.current -= self.live.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        import weakref

        out = func(*args, **(kwargs or {}))
        for tensor in out if isinstance(out, (tuple, list)) else (out,):
            if not isinstance(tensor, torch.Tensor) or _aliases(func):  # views and in-place ops allocate nothing
                continue
            storage = tensor.untyped_storage()
            key = storage.data_ptr()
            if key in self.live or storage.nbytes() == 0:
                continue
            self.live[key] = storage.nbytes()
            self.current += storage.nbytes()
            self.peak = max(self.peak, self.current)
            weakref.finalize(tensor, self._release, key)
        return out


__all__ = [
    "LOSS_MODES",
    "PUMALossOutput",
    "answer_positions",
    "causal_lm_ce",
    "gather_aligned",
    "kl_peak_bytes",
    "kl_sums",
    "puma_loss",
    "standardize",
]
