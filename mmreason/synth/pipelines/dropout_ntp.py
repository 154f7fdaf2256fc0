"""MMPR's Dropout Next-Token Prediction pairs (`../shared/reference/algorithms.md` §4.5), for open-ended questions
without a ground truth.

The chosen response is the row's assistant turn (InternVL: the policy's own answer, made with the image). Its
first half — the first `int(len(chosen.split(' ')) * 0.5)` space-separated tokens, joined by spaces
([`dropout_prefix`]) — is given to the model as the start of its answer, **without the image**, and the model
continues it (the backends' assistant-prefix continuation, vLLM's `continue_final_message`). The rejected response
is the prefix followed directly by the continuation (no separator): text-only continuations hallucinate more.

Output rows are preference rows (`answer_gt` is `""`); `source` ends in `_prefix_pair_sr0.5_wo_image`, MMPR's name.
"""

from __future__ import annotations

from typing import Any

from ..stage import StageFailure
from .common import (
    RowError,
    backend_settings,
    bare,
    generate_n,
    generation_failure,
    read_turn,
    sampling,
    text_part,
    user_message,
)

START_RATIO = 0.5


def dropout_prefix(response: str, start_ratio: float = START_RATIO) -> str:
    """The first `int(len(response.split(' ')) * start_ratio)` space-separated tokens of `response`, joined by
    single spaces (InternVL's `' '.join(chosen.split(' ')[:n])`; other whitespace stays inside the tokens)."""
    words = response.split(" ")
    return " ".join(words[: int(len(words) * start_ratio)])


def source_suffix(start_ratio: float, with_image: bool) -> str:
    """MMPR's file-name suffix of the pairs: `_prefix_pair_sr0.5_wo_image` / `_with_image`."""
    return f"_prefix_pair_sr{start_ratio}_{'with' if with_image else 'wo'}_image"


class DropoutNTPStage:
    """DropoutNTP as a job-runner [`Stage`]: canonical rows in (the assistant turn is the chosen response),
    preference rows out.

    Args:
        backend: the model that continues the prefix (a generation backend that continues a final assistant turn).
        start_ratio: the share of the chosen response's tokens kept as the prefix (0.5).
        with_image: continue with the image (MMPR's `sr*_with_image` variants; off by default).
        temperature / top_k / top_p / max_new_tokens: sampling (InternVL's MPO era: 1.0 / 50 / - / 1024).
    """

    name = "dropout_ntp"

    def __init__(
        self, backend: Any, start_ratio: float = START_RATIO, with_image: bool = False, temperature: float = 1.0,
        top_k: int | None = 50, top_p: float | None = None, max_new_tokens: int = 1024,
    ):  # fmt: skip
        from ...data.preference import preference_features

        self.backend, self.start_ratio, self.with_image = backend, start_ratio, with_image
        self.sampling = sampling(temperature, top_k, top_p, max_new_tokens, continue_final_message=True)
        self.features = preference_features()

    def settings(self) -> dict[str, Any]:
        """Backend, sampling, start ratio and image use."""
        return {
            "backend": backend_settings(self.backend), "sampling": self.sampling.settings(),
            "start_ratio": self.start_ratio, "with_image": self.with_image,
        }  # fmt: skip

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Continue every row's prefix at once; one preference row per input row."""
        results: list[Any] = [None] * len(rows)
        requests, where = [], []
        for index, row in enumerate(rows):
            try:
                turn = read_turn(row)
                if not turn.answer:
                    raise RowError("no chosen response (empty assistant turn)")
            except RowError as error:
                results[index] = StageFailure(str(error), retryable=False)
                continue
            prefix = dropout_prefix(turn.answer, self.start_ratio)
            parts = turn.user if self.with_image else [text_part(turn.question)]
            requests.append([user_message(parts), {"role": "assistant", "content": [text_part(prefix)]}])
            where.append((index, turn, prefix))
        for (index, turn, prefix), (answer,) in zip(where, generate_n(self.backend, requests, self.sampling)):
            if not isinstance(answer, str):
                results[index] = generation_failure(answer, "continuation")
            elif prefix + answer == turn.answer:
                results[index] = StageFailure("identical: the continuation reproduced the chosen response")
            else:
                results[index] = [self._row(rows[index], turn, prefix + answer)]
        return results

    def _row(self, row: dict[str, Any], turn: Any, rejected: str) -> dict[str, Any]:
        return {
            "id": f"{row['id']}-ntp", "source": f"{row.get('source') or 'mmpr'}"
            f"{source_suffix(self.start_ratio, self.with_image)}",
            "prompt": [user_message(bare(turn.user))],
            "chosen": [{"role": "assistant", "content": [text_part(turn.answer)]}],
            "rejected": [{"role": "assistant", "content": [text_part(rejected)]}],
            "images": list(turn.images), "answer_gt": "",
        }  # fmt: skip


def dropout_ntp_pairs(rows: list[dict[str, Any]], backend: Any, **options: Any) -> list[dict[str, Any]]:
    """DropoutNTP over rows in memory: one preference row per usable input row (failed rows give none; run it
    with `mmreason.synth.run_job(DropoutNTPStage(...), ...)` to record and retry them)."""
    stage = DropoutNTPStage(backend, **options)
    return [pair for result in stage.process_batch(list(rows)) if isinstance(result, list) for pair in result]


__all__ = ["START_RATIO", "DropoutNTPStage", "dropout_ntp_pairs", "dropout_prefix", "source_suffix"]
