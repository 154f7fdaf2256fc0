"""`evaluate` metric wrapping mmreason's judge-free scorers.

    import evaluate
    from mmreason.eval import METRIC_PATH
    metric = evaluate.load(METRIC_PATH, "mathvista_testmini")        # config = a benchmark name
    metric.compute(predictions=["... Answer: 3"], references=[json.dumps(row)], mode="strict")
    # {"accuracy": 1.0, "count": 1, "flags": {}, ...}

`references` are the benchmark rows as JSON objects (the scorers need the choices, answer type, precision, ...);
a plain string is read as `{"answer": string}`. `mode` is `strict` (default) or `official`.

Unit: accuracies are fractions in [0, 1], as in `results.json` and the JSON line `mmreason eval` prints (only
`results.md`, `results.png` and the Hub's `.eval_results` show percent).
"""

import json

import datasets
import evaluate

_DESCRIPTION = (
    "Rule-based (judge-free) scoring of reasoning benchmarks: MathVista, MathVerse, MMMU, MMMU-Pro, MathVision, "
    "DynaMath, We-Math."
)
_KWARGS = """
Args:
    predictions: model responses.
    references: benchmark rows as JSON strings (or bare gold answers).
    mode: "strict" (default) or "official".
Returns:
    accuracy (a fraction in [0, 1], the unit of `mmreason eval`'s output), count, flags, and the benchmark's own
    breakdowns.
"""


class MmreasonReasoning(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            codebase_urls=["https://github.com/mmreason/mmreason"],
        )

    def _compute(self, predictions, references, mode="strict"):
        from mmreason.eval.benchmarks import get_benchmark

        scorer = get_benchmark(self.config_name).scorer()
        docs = [json.loads(r) if r.lstrip().startswith("{") else {"answer": r} for r in references]
        verdicts = [scorer.score(p, d, mode) for p, d in zip(predictions, docs)]
        return scorer.aggregate(docs, verdicts)
