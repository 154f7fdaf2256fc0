"""MMPR correctness pairs (InternVL's MPO data, `../shared/reference/algorithms.md` §4.4).

For a question with a ground-truth answer: sample `N` chain-of-thought answers (temperature 1.0, top-k 50) with
InternVL's CoT prompt (`mmpr_cot@1`, `INSTRUCTION_EN` verbatim), read each one's `Final answer:`
([`extract_answer_from_mpo`], InternVL's asserts), apply `answer_fix` ([`fix_answer`]), check it against the ground
truth with mmreason's strict scorers ([`is_correct`]), and pair correct with incorrect answers ([`build_pairs`]):

* every (correct, incorrect) combination, skipping a pair whose correct answer is contained in the incorrect one
  (the entailment skip), then at most `max_pairs` (15) drawn with `random.Random(seed)` — correctness pairs;
* the same against the unparseable answers — format pairs, kept apart (their `source` ends in
  `_pairs_vqa_format_rules`, the correctness pairs' in `_pairs_vqa_correctness_rules`, MMPR's file names);
* a question none of whose samples is correct is a retryable failure (`all_wrong`), so the next run of the job
  re-samples it (InternVL's `neg_items/`).

Output rows are preference rows (`mmreason.data.preference`): `id, source, prompt, chosen, rejected, images,
answer_gt`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...eval.scorers.extract import choice_letter
from ...eval.scorers.mathvision import strict_equal
from ..prompts import Prompt, load_prompt
from ..stage import StageFailure
from .common import (
    RowError,
    backend_settings,
    bare,
    generate_n,
    read_turn,
    sampling,
    text_part,
    user_message,
)

#: short-answer instructions InternVL strips from a question before wrapping it in the CoT prompt (verbatim)
VALID_INSTRUCTIONS = (
    "Answer the question using a single word or phrase.",
    "Answer with the option's letter from the given choices directly.",
    "Please answer Yes or No.",
    "Please answer the question and put the final answer within \\boxed{}.",
)
#: answer triggers, in the order InternVL tries them
TRIGGERS = ("Final answer:", "Final Answer:", "答案:")
#: option letters of InternVL's `fix_answer`
OPTION_LETTERS = tuple("ABCDEFGHIJKLMN")
NUM_PAIRS_PER_KEY = 15
CORRECTNESS_SUFFIX = "_pairs_vqa_correctness_rules"
FORMAT_SUFFIX = "_pairs_vqa_format_rules"


class FormatError(ValueError):
    """A response InternVL's parser rejects (a format negative)."""


def extract_answer_from_mpo(response: str) -> tuple[str, str]:
    """`(rationale, answer)` of a response, as InternVL's `extract_answer_from_mpo`: the trigger `Final answer:`,
    else `Final Answer:`, else `答案:`; at most 2 triggers, at least 2 newlines, a non-empty rationale and a
    one-line answer.

    Raises:
        FormatError: any of those fails (no trigger at all included).
    """
    trigger = next((t for t in TRIGGERS if t in response), TRIGGERS[-1])
    if response.count(trigger) > 2:
        raise FormatError(f"{response.count(trigger)} answer triggers")
    if response.count("\n") < 2:
        raise FormatError("fewer than 2 newlines (no rationale)")
    if trigger not in response:
        raise FormatError("no 'Final answer:'")
    rationale, answer = response.rsplit(trigger, 1)
    if not rationale.strip():
        raise FormatError("empty rationale")
    if "\n" in answer.strip():
        raise FormatError("the answer spans several lines")
    return rationale.strip(), answer.strip()


def _option(pred: str) -> str:
    """InternVL's `post_process`: the option letter a prediction names, or `FormatError`."""
    pred = pred.strip().strip("*").strip().upper()
    if len(pred) == 1:
        return pred
    if len(pred) > 1 and not pred[1].isalpha() and pred[0] in OPTION_LETTERS:
        return pred[0]
    if len(pred) > 2 and pred[0] == "(" and pred[2] == ")" and pred[1] in OPTION_LETTERS:
        return pred[1]
    raise FormatError(f"no option letter in {pred!r}")


def fix_answer(response: str, answer_pred: str, answer_gt: str) -> str:
    """InternVL's `answer_fix`: when the ground truth is contained in the prediction (thousands separators and
    trailing dots ignored; option letters compared as letters), the prediction's last occurrence in the response
    becomes the ground truth and `*` around the response go; `**Final` on the last line becomes `Final`.

    Raises:
        FormatError: the response has no line break left (InternVL's `rsplit('\\n', 1)` fails), or an empty
            prediction "contains" the ground truth (a ground truth of dots and commas only; InternVL's
            `rsplit('', 1)` fails).
    """
    pred, gt = answer_pred.lower(), answer_gt.lower()
    if answer_gt.upper() in OPTION_LETTERS:
        try:
            pred = _option(answer_pred)
        except FormatError:
            return response
        gt = answer_gt.upper()
    if gt in pred or gt.strip(".").replace(",", "") in pred.strip(".").replace(",", ""):
        if not answer_pred:
            raise FormatError("an empty prediction cannot be replaced")  # InternVL's rsplit('') raises
        response = answer_gt.join(response.rsplit(answer_pred, 1))
        response = response.strip().strip("*").strip()
    if "\n" not in response:
        raise FormatError("no line break after answer_fix")
    other_lines, last_line = response.rsplit("\n", 1)
    if "**Final" in last_line:
        response = f"{other_lines}\n{last_line.replace('**Final', 'Final')}".strip()
    return response


def load_math_verify_check() -> Callable[[str, str], bool]:
    """`check(gold, pred)` by math-verify (`pip install "mmreason[math]"`)."""
    from ...eval.scorers.matching import load_math_verify

    return load_math_verify()


def is_correct(pred: str, gt: str, math_verify: Callable[[str, str], bool] | None = None) -> bool:
    """Whether a final answer matches the ground truth by mmreason's strict rules: a case-insensitive exact match;
    for a single-letter ground truth, the option letter the answer names (`B`, `(B)`, `B.`, `**B**`); otherwise
    value equality of numbers/simple LaTeX (MATH-Vision's strict `strict_equal`, units and `x =` stripped), and
    `math_verify(gt, pred)` when given."""
    pred, gt = pred.strip(), gt.strip()
    if not pred or not gt:
        return False
    if pred.lower() == gt.lower():
        return True
    if len(gt) == 1 and gt.isalpha():
        return choice_letter(pred, 26) == gt.upper()
    if strict_equal(gt, pred):
        return True
    return bool(math_verify and math_verify(gt, pred))


@dataclass
class Sample:
    """One sampled response, judged: `answer_pred` is `None` for a format negative."""

    response: str
    answer_pred: str | None = None
    correct: bool = False
    reason: str = ""


def judge_samples(
    responses: list[str],
    answer_gt: str,
    answer_fix: bool = True,
    math_verify: Callable[[str, str], bool] | None = None,
) -> list[Sample]:
    """Parse, fix and check each response as InternVL's post-processing does (correctness is checked on the
    parsed answer; `answer_fix` rewrites the stored response only)."""  # fmt: skip
    samples = []
    for response in responses:
        try:
            _, pred = extract_answer_from_mpo(response)
            if answer_fix:
                response = fix_answer(response, pred, answer_gt)
        except FormatError as error:
            samples.append(Sample(response, None, False, str(error)))
            continue
        samples.append(Sample(response, pred, is_correct(pred, answer_gt, math_verify)))
    return samples


@dataclass
class Pairs:
    """The pairs of one question: `correctness` and `format` are `(chosen, rejected)` response pairs."""

    correctness: list[tuple[str, str]] = field(default_factory=list)
    format: list[tuple[str, str]] = field(default_factory=list)
    entailment_skips: int = 0
    all_wrong: bool = False


def _pairs(pos: list[Sample], neg: list[Sample], rng: random.Random, cap: int, entailment_skip: bool) -> tuple:
    candidates, skipped = [], 0
    for good in pos:
        for bad in neg:
            if entailment_skip and good.answer_pred.lower() in (bad.answer_pred or "None").lower():
                skipped += 1
                continue
            candidates.append((good.response, bad.response))
    drawn = rng.sample(candidates, min(len(candidates), cap))
    return list(dict.fromkeys(drawn)), skipped


def build_pairs(
    samples: list[Sample], max_pairs: int = NUM_PAIRS_PER_KEY, seed: int = 0, entailment_skip: bool = True
) -> Pairs:
    """InternVL's pair building for one question: all (correct, incorrect) combinations in sample order, minus the
    entailment skips, `random.Random(seed).sample`d down to `max_pairs` and deduplicated; then the same with the
    format negatives (whose answer reads `"None"`, as InternVL stores it), drawn from the same generator."""
    pos = [s for s in samples if s.correct]
    neg = [s for s in samples if s.answer_pred is not None and not s.correct]
    bad_format = [s for s in samples if s.answer_pred is None]
    rng = random.Random(seed)
    correctness, skipped = _pairs(pos, neg, rng, max_pairs, entailment_skip)
    format_pairs, format_skipped = _pairs(pos, bad_format, rng, max_pairs, entailment_skip)
    return Pairs(correctness, format_pairs, skipped + format_skipped, all_wrong=not pos)


def cot_question(question: str, prompt: Prompt | None = None) -> str:
    """The question without InternVL's short-answer instructions, wrapped in the CoT prompt (default: the latest
    `mmpr_cot`)."""
    for instruction in VALID_INSTRUCTIONS:
        if question.rstrip().endswith(instruction):
            question = question.rstrip()[: -len(instruction)].rstrip()
    return (prompt or load_prompt("mmpr_cot")).render(question=question.strip())


class MMPRCorrectnessStage:
    """The correctness pipeline as a job-runner [`Stage`]: canonical rows in (the assistant turn, or an `answer`
    key, is the ground truth), preference rows out.

    Args:
        backend: the policy model that samples (a generation backend).
        num_samples: answers per question (InternVL: 32 in the MPO-era scripts, code default 8).
        temperature / top_k / top_p / max_new_tokens: sampling (InternVL: 1.0 / 50 / 1.0 / 2048).
        max_pairs: pairs per question and kind (15).
        answer_fix: InternVL's `--answer-fix` (on in their runs).
        math_verify: also accept answers math-verify calls equal.
        entailment_skip: skip pairs whose correct answer is contained in the incorrect one.
        seed: the pair-sampling seed (`random.Random(seed)` per question).
    """

    name = "mmpr_correctness"

    def __init__(
        self, backend: Any, num_samples: int = 8, temperature: float = 1.0, top_k: int | None = 50,
        top_p: float | None = 1.0, max_new_tokens: int = 2048, max_pairs: int = NUM_PAIRS_PER_KEY,
        answer_fix: bool = True, math_verify: bool = False, entailment_skip: bool = True, seed: int = 0,
    ):  # fmt: skip
        from ...data.preference import preference_features

        self.backend, self.num_samples, self.max_pairs, self.seed = backend, num_samples, max_pairs, seed
        self.answer_fix, self.math_verify, self.entailment_skip = answer_fix, math_verify, entailment_skip
        self.sampling = sampling(temperature, top_k, top_p, max_new_tokens)
        self._verify = load_math_verify_check() if math_verify else None
        self.prompt = load_prompt("mmpr_cot")
        self.features = preference_features()

    def settings(self) -> dict[str, Any]:
        """Prompt, backend, sampling and pair-building settings."""
        return {
            "prompt": self.prompt.settings(), "backend": backend_settings(self.backend),
            "sampling": self.sampling.settings(), "num_samples": self.num_samples, "max_pairs": self.max_pairs,
            "answer_fix": self.answer_fix, "math_verify": self.math_verify, "entailment_skip": self.entailment_skip,
            "seed": self.seed,
        }  # fmt: skip

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        """Sample every question of the batch at once, then judge and pair each."""
        results: list[Any] = [None] * len(rows)
        requests, where = [], []
        for index, row in enumerate(rows):
            try:
                turn = read_turn(row)
                gt = str(row.get("answer") or turn.answer).strip()
                if not gt:
                    raise RowError("no ground-truth answer")
            except RowError as error:
                results[index] = StageFailure(str(error), retryable=False)
                continue
            prompt = [*turn.image_parts, text_part(cot_question(turn.question, self.prompt))]
            requests.append([user_message(prompt)])
            where.append((index, prompt, gt))
        for (index, prompt, gt), answers in zip(where, generate_n(self.backend, requests, self.sampling,
                                                                  self.num_samples)):  # fmt: skip
            results[index] = self._pair_rows(rows[index], prompt, gt, answers)
        return results

    def _pair_rows(self, row: dict[str, Any], prompt: list, gt: str, answers: list) -> list | StageFailure:
        texts = [a for a in answers if isinstance(a, str)]
        if len(texts) < len(answers):
            return StageFailure(
                f"generation: {len(answers) - len(texts)}/{len(answers)} samples failed "
                f"({next(a for a in answers if not isinstance(a, str)).message[:160]})"
            )
        pairs = build_pairs(
            judge_samples(texts, gt, self.answer_fix, self._verify), self.max_pairs, self.seed, self.entailment_skip
        )
        if pairs.all_wrong:
            return StageFailure(f"all_wrong: no correct answer in {len(texts)} samples (re-sampled next run)")
        source = row.get("source") or "mmpr"
        images = [part["image"] for part in prompt if part["type"] == "image"]
        out = []
        for kind, suffix, kept in (("c", CORRECTNESS_SUFFIX, pairs.correctness), ("f", FORMAT_SUFFIX, pairs.format)):
            for k, (chosen, rejected) in enumerate(kept):
                out.append(
                    {
                        "id": f"{row['id']}-{kind}{k}",
                        "source": f"{source}{suffix}",
                        "prompt": [user_message(bare(prompt))],
                        "chosen": [{"role": "assistant", "content": [text_part(chosen)]}],
                        "rejected": [{"role": "assistant", "content": [text_part(rejected)]}],
                        "images": images,
                        "answer_gt": gt,
                    }
                )
        return out


def mmpr_correctness_pairs(rows: list[dict[str, Any]], backend: Any, **options: Any) -> list[dict[str, Any]]:
    """The correctness pipeline over rows in memory: every row's preference rows (failed rows give none; run it
    with `mmreason.synth.run_job(MMPRCorrectnessStage(...), ...)` to record and retry them)."""
    stage = MMPRCorrectnessStage(backend, **options)
    return [pair for result in stage.process_batch(list(rows)) if isinstance(result, list) for pair in result]


__all__ = [
    "CORRECTNESS_SUFFIX",
    "FORMAT_SUFFIX",
    "NUM_PAIRS_PER_KEY",
    "VALID_INSTRUCTIONS",
    "FormatError",
    "MMPRCorrectnessStage",
    "Pairs",
    "Sample",
    "build_pairs",
    "cot_question",
    "extract_answer_from_mpo",
    "fix_answer",
    "is_correct",
    "judge_samples",
    "mmpr_correctness_pairs",
]  # fmt: skip
