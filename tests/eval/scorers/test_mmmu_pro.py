"""MMMU-Pro scorer: official verdicts (expected values came from running the official `mmmu-pro/evaluate.py`
`parse_multi_choice_response` on the same inputs) and the strict mode, ten options A-J."""

from __future__ import annotations

import pytest

from mmreason.eval.scorers.base import Verdict
from mmreason.eval.scorers.mmmu import MMMUProScorer as RegistryPath
from mmreason.eval.scorers.mmmu_pro import MMMUProScorer

OPTIONS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def doc(answer: str = "B", **extra: object) -> dict[str, object]:
    return {"id": "test_History_1", "options": str(OPTIONS), "answer": answer, "subject": "History", **extra}


# (response, official letter, strict letter or None)
CASES = [
    ("The answer is B, I believe.", "I", "B"),  # pronoun "I" is a "{c} " candidate; "B," is not
    ("Answer: B\nI hope this helps.", "I", "B"),  # two letters after "Answer:", then the fallback finds only "I "
    ("Looking at the options, I would pick B. It fits.", "I", None),
    ("Answer: (J)", "J", "J"),
    ("Answer: The correct choice is E", "E", "E"),  # exactly one of A-J after the last "Answer:"
    ("Answer: I think it is G", "G", "G"),
    ("The process depends on DNA polymerase activity.", "A", None),  # "DNA " → A
    ("J", "J", "J"),
    ("Answer: B", "B", "B"),
    ("After reviewing every option, the best match is (B) beta.", "B", None),  # strict: no final-answer marker
    ("After reviewing every option, the correct answer is (B) beta.", "B", "B"),
    ("**Answer: B (Reduce A)**", "B", "B"),  # strict: the letter the answer starts with, not the one in brackets
    ("Answer: (A)(D)", "D", None),  # several letters: no answer in strict
    ("Answer: C and D", "D", None),
    ("\\( V_C \\approx \\boxed{4.50 \\text{ kip}} \\)\n\nAnswer: H", "H", "H"),  # boxed number, then Answer:
    ("The closest answer choice is:\n\n**F. 22.0 kJ**", "F", "F"),
    ("G. The answer depends on the specific values of the other nodes", "G", "G"),
    ("Thus, the correct option is D.", "D", "D"),
    ("Answer: X-ray imaging, so E", "E", "E"),
]


@pytest.mark.parametrize(("response", "official", "strict"), CASES)
def test_letters(response: str, official: str, strict: str | None) -> None:
    scorer = MMMUProScorer()
    assert scorer.score(response, doc(), "official") == Verdict(official == "B", official, [])
    verdict = scorer.score(response, doc(), "strict")
    assert (verdict.extracted, verdict.correct) == (strict, strict == "B")
    assert verdict.flags == ([] if strict else ["no_answer"])


def test_boxed_and_random_guess() -> None:
    scorer = MMMUProScorer()
    verdict = scorer.score("\\boxed{H}", doc("H"), "official")  # the official parser finds no candidate
    assert verdict.flags == ["random_guess"] and verdict.extracted == "B"  # official, after random.seed(42): B
    assert scorer.score("\\boxed{H}", doc("H"), "strict") == Verdict(True, "H", [])
    assert scorer.score("", doc(), "strict") == Verdict(False, None, ["no_answer"])


def test_vision_rows_and_prompts() -> None:
    screenshot = object()
    vision = {"id": "test_Art_5", "image": screenshot, "options": str(OPTIONS), "answer": "C", "subject": "Art"}
    cot, direct = MMMUProScorer(), MMMUProScorer(cot=False)
    assert cot.prompt(vision).startswith("Write out the multiple-choice question in the image and then solve it.")
    assert direct.prompt(vision).startswith("Answer with the option letter from the given choices directly. The last")
    assert cot.images(vision) == [screenshot]
    assert cot.score("Answer: C", vision, "official").correct and cot.score("Answer: C", vision, "strict").correct
    standard = doc(question="What is shown in <image 1>?", image_1="img", image_2="unused")
    lines = "\n".join(f"{'ABCDEFGHIJ'[i]}. {o}" for i, o in enumerate(OPTIONS))
    assert cot.prompt(standard) == (
        f"What is shown in <image 1>?\n{lines}\nAnswer the preceding multiple choice question. The last line of "
        "your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one "
        "of options. Think step by step before answering."
    )
    assert direct.prompt(standard).endswith(f"{lines}\nAnswer with the option letter from the given choices directly.")
    assert cot.images(standard) == ["img"]


def test_aggregate_and_registry_path() -> None:
    docs = [doc(subject="History"), doc(subject="History"), doc(subject="Art_Theory"), doc(subject="Nowhere")]
    verdicts = [Verdict(True), Verdict(False), Verdict(True), Verdict(False, flags=["random_guess"])]
    result = MMMUProScorer().aggregate(docs, verdicts)
    assert result["accuracy"] == 0.5 and result["flags"] == {"random_guess": 1}
    assert result["subject"]["History"] == {"accuracy": 0.5, "count": 2}
    assert result["discipline"]["Art and Design"] == {"accuracy": 1.0, "count": 1}
    assert result["discipline"]["Other"] == {"accuracy": 0.0, "count": 1}
    assert RegistryPath is MMMUProScorer and MMMUProScorer.name == "mmmu_pro"
