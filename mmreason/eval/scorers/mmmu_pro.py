"""MMMU-Pro scorer (`MMMU/MMMU_Pro`, configs "standard (10 options)" and "vision", split test).

Official sources (read, not copied) in `MMMU-Benchmark/MMMU`: `mmmu-pro/evaluate.py` (`mmmu_process_results`,
`parse_multi_choice_response`: the "Answer:" step, then the MMMU parser with `"{c} "`/`"{c}."` candidates),
`mmmu-pro/prompts.yaml` (CoT and direct instructions) and `mmmu-pro/infer/infer_*.py` (`construct_prompt`:
question, `A. option` lines and the instruction joined by single newlines; vision rows get the instruction only).
The parsers themselves live in `mmmu.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .base import STRICT_READING, Verdict, accuracy_table
from .mmmu import DISCIPLINES, SUBJECT_DISCIPLINE, MMMUScorer, _group, format_options, parse_options

#: `mmmu-pro/prompts.yaml`: instruction per prompt mode and dataset config
PROMPTS: dict[str, dict[str, str]] = {
    "cot": {
        "vision": "Write out the multiple-choice question in the image and then solve it. The last line of your "
        "response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of "
        "options. Think step by step before answering.",
        "standard": "Answer the preceding multiple choice question. The last line of your response should be of "
        "the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of options. Think step by "
        "step before answering.",
    },
    "direct": {
        "vision": "Answer with the option letter from the given choices directly. The last line of your response "
        "should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of options.",
        "standard": "Answer with the option letter from the given choices directly.",
    },
}


class MMMUProScorer(MMMUScorer):
    """MMMU-Pro: up to ten options (A-J), all multiple choice; accuracy overall, per subject and discipline.

    Args:
        cot: the chain-of-thought prompt ("... 'Answer: $LETTER' ... Think step by step") instead of the direct one.
        seed: seed of the official parser's random letter.
    """

    name = "mmmu_pro"
    pro_parser: ClassVar[bool] = True
    breakdown: ClassVar[tuple[str, ...]] = ("subject", "discipline")
    STRICT_CHANGES: ClassVar[tuple[str, ...]] = (
        "The letter comes from the final-answer span (last \\boxed{}, 'Answer:'-style marker in any case, <answer> "
        "tag, or the line after 'the correct/best/closest option is'), first line only; official: any of A-J "
        "appearing anywhere after the last case-sensitive 'Answer:' ('Answer: B\\nI hope...' has two, so it falls "
        "back to the MMMU parser).",
        "The pronoun 'I' and the article 'A' are not letters, nor capitals ending a word ('DNA ' → A, 'PCI.' → "
        "I in the official `'{c} '`/`'{c}.'` fallback); several different letters are no answer.",
        "Without an explicit final answer, only a response that is itself a letter, a 'B. text' line or an "
        "option's exact text counts; option text is matched exactly, not as a substring of a >5-word response.",
        "Never a random letter: an unparseable response is wrong and flagged 'no_answer' (official: "
        "random.choice, flagged 'random_guess').",
        STRICT_READING,
    )

    def __init__(self, cot: bool = True, seed: int = 42) -> None:
        super().__init__(seed=seed)
        self.cot = cot

    def is_multiple_choice(self, doc: dict[str, Any]) -> bool:
        return True

    def prompt(self, doc: dict[str, Any]) -> str:
        """The official prompt: `question\\nA. ...\\nJ. ...\\n<instruction>`; vision rows: the instruction alone."""
        instructions = PROMPTS["cot" if self.cot else "direct"]
        if "question" not in doc:
            return instructions["vision"]
        return f"{doc['question']}\n{format_options(parse_options(doc['options']))}\n{instructions['standard']}"

    def aggregate(self, docs: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, Any]:
        """Overall accuracy (the official number) and flags, per-subject and per-discipline accuracy."""
        result = accuracy_table(docs, verdicts, ("subject",))
        subjects = [str(doc.get("subject") or "unknown").replace(" ", "_") for doc in docs]
        disciplines = _group([SUBJECT_DISCIPLINE.get(s, "Other") for s in subjects], verdicts)
        result["discipline"] = {k: disciplines[k] for k in [*DISCIPLINES, "Other"] if k in disciplines}
        return result


__all__ = ["PROMPTS", "MMMUProScorer"]
