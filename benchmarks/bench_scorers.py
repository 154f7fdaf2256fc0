"""Scored responses per second of the rule-based scorers, per benchmark and mode (goal >= 10k/s on one core).

Synthetic rows in each benchmark's Hub format, paired with ~1 KB chain-of-thought responses that end in different
answer styles (`\\boxed{}`, "Answer: X", "The answer is (B)", option text, no answer). Every response is scored in
both modes, single process.

    python benchmarks/bench_scorers.py [--n 20000]
"""

from __future__ import annotations

import argparse
import random
import time

from mmreason.eval import BENCHMARKS

REASONING = (
    "First, read the figure carefully. The segment AB is perpendicular to BC, so triangle ABC is right-angled at B. "
    "By the Pythagorean theorem, AC^2 = AB^2 + BC^2. Substituting the known lengths gives the value below. "
) * 4
ENDINGS = [
    "\\boxed{{{a}}}",
    "Answer: {a}",
    "The answer is {a}.",
    "So the final answer is ({a}).",
    "{a}",
    "I cannot tell.",
]
OPTIONS = ["12", "15", "18", "21"]


def doc_for(name: str, index: int) -> tuple[dict, str]:
    """A row of benchmark `name` and its gold answer (as a response would write it)."""
    mc = index % 2 == 0
    letter = "ABCD"[index % 4]
    if name == "mathvista_testmini":
        doc = {
            "pid": str(index),
            "question": "What is AC?",
            "choices": OPTIONS if mc else None,
            "unit": None,
            "precision": None if mc else 1.0,
            "answer": OPTIONS[index % 4] if mc else "12.5",
            "question_type": "multi_choice" if mc else "free_form",
            "answer_type": "text" if mc else "float",
            "query": "Question: What is AC?",
            "metadata": {"category": "math-targeted-vqa", "task": "geometry"},
        }
        return doc, letter if mc else "12.5"
    if name == "mathverse_testmini":
        question = "What is AC?\nChoices:\nA:12\nB:15\nC:18\nD:21" if mc else "What is AC?"
        doc = {
            "sample_index": str(index),
            "problem_version": "Vision Only",
            "question": question,
            "answer": letter if mc else "12.5",
            "question_type": "multi-choice" if mc else "free-form",
            "metadata": {"subfield": "Length"},
            "query_wo": question,
            "query_cot": question,
        }
        return doc, letter if mc else "12.5"
    if name in ("mmmu_val", "mmmu_pro_standard"):
        options = OPTIONS + (["24", "27", "30", "33", "36", "39"] if name == "mmmu_pro_standard" else [])
        doc = {
            "id": f"validation_Math_{index}",
            "question": "What is AC? <image 1>",
            "options": str(options),
            "answer": letter,
            "question_type": "multiple-choice",
            "subject": "Math",
            "subfield": "Geometry",
        }
        return doc, letter
    if name == "mathvision_testmini":
        doc = {
            "id": str(index),
            "question": "What is AC?",
            "options": OPTIONS if mc else [],
            "answer": letter if mc else "12.5",
            "level": 2,
            "subject": "metric geometry - length",
        }
        return doc, letter if mc else "12.5"
    if name == "dynamath":
        doc = {
            "id": str(index),
            "qid": index // 10,
            "varid": index % 10,
            "question": "What is AC?",
            "ground_truth": letter if mc else "12.5",
            "answer_type": "multiple choice" if mc else "float",
            "subject": "Geometry",
            "knowledge_level": "high school",
        }
        return doc, letter if mc else "12.5"
    doc = {
        "ID": f"{index}",
        "split": "testmini",
        "knowledge concept": "length",
        "question": "What is AC?",
        "option": "A. 12; B. 15; C. 18; D. 21",
        "answer": letter,
        "key": str(index % 3),
        "question number": index,
    }
    return doc, letter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000, help="Responses per benchmark.")
    args = parser.parse_args()
    rng = random.Random(0)
    print(f"{'benchmark':22} {'mode':9} {'responses/s':>12} {'accuracy':>9}")
    rates = []
    for name, bench in BENCHMARKS.items():
        scorer = bench.scorer()
        pairs = []
        for index in range(args.n):
            doc, gold = doc_for(name, index)
            answer = gold if rng.random() < 0.6 else "7"
            pairs.append((REASONING + rng.choice(ENDINGS).format(a=answer), doc))
        for mode in ("official", "strict"):
            start = time.perf_counter()
            correct = sum(scorer.score(response, doc, mode).correct for response, doc in pairs)
            rate = len(pairs) / (time.perf_counter() - start)
            rates.append(rate)
            print(f"{name:22} {mode:9} {rate:>12,.0f} {correct / len(pairs):>9.1%}")
    print(f"\nslowest: {min(rates):,.0f} responses/s (goal >= 10,000)")


if __name__ == "__main__":
    main()
