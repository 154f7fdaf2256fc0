"""[`RefineStage`]: QA rows → canonical training rows, the last stage of web mining (`algorithms.md` §2.2-2.3):

1. **validity filter** (prompt `web_validity`, the MLLM with the question's and the solution's images): is the
   question a meaningful exercise, which images are valid, which subject ([`parse_validity`]); invalid questions
   are rejected, invalid images dropped;
2. **consistency refinement**: `num_answers` answers sampled for the question and its kept images (prompt
   `web_answer`, temperature 1), then a judge (prompt `web_consistency`) decides whether they agree; kept when
   all agree (`consistency="all"`, the default) or when more than half do (`"majority"`: the paper leaves the
   rule open); the first agreeing answer is the model's answer;
3. **alignment with the web answer** (prompt `web_alignment`, the seed's `answer_alignment.py` decisions):
   aligned → the model's answer, and the question gets the suffix [`ANSWER_SUFFIX`]; not aligned → the web
   page's answer, no suffix; no web answer ("Not found") or no readable verdict after the job's retries → the
   model's answer with the suffix and `is_aligned=None`.

A rejected question is a non-retryable failure whose reason starts with `rejected:` (the data report's funnel
counts them); an unreadable reply is a retryable one. Output rows are canonical rows (`mmreason.data.schema`:
the question's images, then the question; the answer) plus `url`, `domain`, `subject`, `is_aligned`,
`answer_source` (`"model"` or `"web"`) and `agreement` (`"4/4"`), ready for `mmreason sft`.
"""

from __future__ import annotations

from typing import Any

from ...data.schema import modality
from ..pipelines.common import (
    backend_settings,
    generate_n,
    generation_failure,
    model_step,
    sampling,
    text_part,
    user_message,
)
from ..prompts import load_prompt
from ..stage import StageFailure
from .qa import is_not_found
from .verdicts import parse_alignment, parse_consistency, parse_validity

ANSWER_SUFFIX = "\n\nPlease conclude your answer as Answer: xxx at the end if possible."
SOURCE = "visualwebinstruct-mined"


def refined_features() -> Any:
    """The output rows' features: the canonical row's (without videos) plus the web columns."""
    import datasets

    from ...data.schema import row_features

    features = row_features(with_videos=False)
    text = datasets.Value("string")
    features.update({"url": text, "domain": text, "subject": text, "is_aligned": datasets.Value("bool"),
                     "answer_source": text, "agreement": text})  # fmt: skip
    return features


def _image_parts(images: list[Any]) -> list[dict[str, Any]]:
    return [{"type": "image", "image": image} for image in images]


class RefineStage:
    """Validity → consistency → alignment over a batch (one `generate` call per step).

    Args:
        mllm: the model of the validity filter, the sampled answers and the alignment (any generation backend).
        judge: the consistency judge (default `mllm`).
        num_answers: answers sampled per question (the paper: 4).
        consistency: `"all"` or `"majority"`.
        temperature: sampling temperature of the answers.
        max_new_tokens: budget of a sampled answer.
    """

    name = "web-refine"

    def __init__(self, mllm: Any, judge: Any = None, num_answers: int = 4, consistency: str = "all",
                 temperature: float = 1.0, max_new_tokens: int = 2048) -> None:  # fmt: skip
        if consistency not in ("all", "majority"):
            raise ValueError(f"consistency must be 'all' or 'majority', not {consistency!r}")
        self.mllm, self.judge, self.num_answers, self.consistency = mllm, judge or mllm, num_answers, consistency
        self.answer_sampling = sampling(temperature, max_new_tokens=max_new_tokens)
        self.greedy = sampling(0.0, max_new_tokens=512)
        self.prompts = {
            name: load_prompt(f"web_{name}") for name in ("validity", "answer", "consistency", "alignment")
        }
        self.features = refined_features()

    def settings(self) -> dict[str, Any]:
        """The prompts, the models and their decoding, the consistency rule."""
        return {"prompts": {name: prompt.settings() for name, prompt in self.prompts.items()},
                "mllm": backend_settings(self.mllm), "judge": backend_settings(self.judge),
                "num_answers": self.num_answers, "consistency": self.consistency,
                "answer_sampling": self.answer_sampling.settings(), "greedy": self.greedy.settings()}  # fmt: skip

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """The three steps over the batch's surviving rows."""
        results: list[Any] = [None] * len(rows)
        items = {i: row for i, row in enumerate(rows)}
        verdicts = model_step(
            results, items, "validity", self.mllm, self.greedy,
            str, self._validity_request,
        )  # fmt: skip
        kept: dict[int, tuple[Any, list[Any]]] = {}
        for index, reply in verdicts.items():
            row = rows[index]
            try:
                verdict = parse_validity(reply, len(row["question_images"]), len(row["solution_images"]))
            except ValueError as error:
                results[index] = StageFailure(f"{error} in {reply[:80]!r}", retryable=True)
                continue
            if not verdict.valid:
                results[index] = StageFailure(f"rejected: invalid question ({verdict.analysis[:120]})", False)
                continue
            kept[index] = (verdict, [row["question_images"][k] for k in verdict.question_images])
        answers = self._answers(results, rows, kept)
        agreed = self._agreement(results, rows, answers)
        aligned = model_step(
            results, {i: agreed[i] for i in agreed if not is_not_found(rows[i]["solution"])}, "alignment",
            self.mllm, self.greedy, parse_alignment,
            lambda i, answer: [user_message([*_image_parts(kept[i][1]), text_part(self.prompts["alignment"].render(
                question=rows[i]["question"], model_answer=answer[0], web_answer=rows[i]["solution"]))])],
        )  # fmt: skip
        for index, (answer, agreement) in agreed.items():
            if results[index] is not None:
                continue  # the alignment request failed: retried by the next run
            verdict, images = kept[index]
            alignment = aligned.get(index)
            results[index] = [self._row(rows[index], verdict, images, answer, agreement, alignment)]
        return results

    def _validity_request(self, index: int, row: dict[str, Any]) -> list[dict[str, Any]]:
        text = self.prompts["validity"].render(question=row["question"], solution=row["solution"])
        images = [*row["question_images"], *row["solution_images"]]
        return [user_message([*_image_parts(images), text_part(text)])]

    def _answers(self, results: list, rows: list, kept: dict) -> dict[int, list[str]]:
        indices = list(kept)
        conversations = [[user_message([*_image_parts(kept[i][1]), text_part(
            self.prompts["answer"].render(question=rows[i]["question"]))])] for i in indices]  # fmt: skip
        answers: dict[int, list[str]] = {}
        for index, replies in zip(indices, generate_n(self.mllm, conversations, self.answer_sampling,
                                                      self.num_answers)):  # fmt: skip
            failed = next((reply for reply in replies if not isinstance(reply, str)), None)
            if failed is not None:
                results[index] = generation_failure(failed, "answers")
            else:
                answers[index] = list(replies)
        return answers

    def _agreement(self, results: list, rows: list, answers: dict[int, list[str]]) -> dict[int, tuple[str, str]]:
        """`index → (kept answer, "k/n")` for the questions whose answers agree."""
        n = self.num_answers

        def request(index: int, replies: list[str]) -> list[dict[str, Any]]:
            listed = "\n\n".join(f"Answer {k + 1}:\n{reply}" for k, reply in enumerate(replies))
            text = self.prompts["consistency"].render(question=rows[index]["question"], answers=listed)
            return [user_message([text_part(text)])]

        judged = model_step(results, answers, "consistency", self.judge, self.greedy,
                            lambda reply: parse_consistency(reply, n), request)  # fmt: skip
        agreed = {}
        for index, verdict in judged.items():
            count = n if verdict.consistent else len(verdict.agreeing)
            accepted = verdict.consistent if self.consistency == "all" else count * 2 > n
            if not accepted or not (verdict.agreeing or verdict.consistent):
                results[index] = StageFailure(f"rejected: inconsistent answers ({count}/{n} agree)", False)
                continue
            first = verdict.agreeing[0] if verdict.agreeing else 0
            agreed[index] = (answers[index][first], f"{count}/{n}")
        return agreed

    def _row(self, row: dict, verdict: Any, images: list, answer: str, agreement: str, alignment: Any) -> dict:
        if alignment is not None and not alignment.aligned:
            question, final, source = row["question"], row["solution"], "web"
        else:
            question, final, source = row["question"] + ANSWER_SUFFIX, answer, "model"
        parts = [*({"type": "image", "text": None} for _ in images), {"type": "text", "text": question}]
        return {
            "id": f"{row['id']}-vwi", "source": SOURCE, "category": modality(len(images), 0),
            "quality_group": verdict.subject,
            "messages": [{"role": "user", "content": parts},
                         {"role": "assistant", "content": [{"type": "text", "text": final}]}],
            "images": images, "url": row["url"], "domain": row["domain"], "subject": verdict.subject,
            "is_aligned": None if alignment is None else alignment.aligned, "answer_source": source,
            "agreement": agreement,
        }  # fmt: skip


__all__ = ["ANSWER_SUFFIX", "SOURCE", "RefineStage", "refined_features"]
