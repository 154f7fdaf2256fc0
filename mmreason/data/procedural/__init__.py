"""A procedural, verifiable visual-reasoning set: seeded PIL scenes with gold answers, step-by-step rationales, an
`easy` (one step) and a `hard` (several steps) level, and a text-rich twin of every vision-rich problem.

    from mmreason.data import procedural
    problems = procedural.generate(8, seed=0, level="easy")          # list[Problem]
    procedural.sft_row(problems[0], view="text")                     # canonical SFT row
    procedural.save("procedural-data", seed=0, n_train=200, n_test=50)  # Parquet + card
    # mmreason eval --model M --benchmark procedural --data procedural-data

Families (`FAMILIES`): `count` (shapes by colour), `bars` (bar heights), `clock` (reading an analogue clock),
`numbers` (arithmetic over numbers drawn next to shapes), `length` (line lengths on a ruler).
"""

from .generate import FAMILIES, generate, iter_problems
from .problem import FINAL_ANSWER, IMAGE_SIZE, LEVELS, VIEWS, Problem, user_prompt
from .rows import eval_row, prompt_of, prompt_row, puma_row, sft_row
from .splits import CONFIGS, TEST_SUBSETS, build_splits, eval_features, save

__all__ = [
    "CONFIGS",
    "FAMILIES",
    "FINAL_ANSWER",
    "IMAGE_SIZE",
    "LEVELS",
    "TEST_SUBSETS",
    "VIEWS",
    "Problem",
    "build_splits",
    "eval_features",
    "eval_row",
    "generate",
    "iter_problems",
    "prompt_of",
    "prompt_row",
    "puma_row",
    "save",
    "sft_row",
    "user_prompt",
]
