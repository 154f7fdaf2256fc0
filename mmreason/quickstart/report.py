"""Stage 6: the report — `results.json`, `results.md` (accuracy per stage and subset against the chance and
majority baselines, the issue's goals), `accuracy.png`, `losses.png`, and the one-screen summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .evaluate import SUBSETS


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def goals(stages: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    """The issue's three goals, measured: SFT ≥ 90% on held-out easy (both views), MPO ≥ +5 points over SFT on hard
    (both views), PUMA at least halves the hard text-vs-vision gap (the gap before PUMA is the MPO model's)."""
    found: dict[str, dict[str, Any]] = {}
    if "sft" in stages:
        easy = _mean([stages["sft"][s] for s in ("easy_vision", "easy_text")])
        found["sft_easy"] = {"value": easy, "target": 0.9, "met": easy >= 0.9}
    if "sft" in stages and "mpo" in stages:
        gain = _mean([stages["mpo"][s] - stages["sft"][s] for s in ("hard_vision", "hard_text")])
        found["mpo_hard_gain"] = {"value": gain, "target": 0.05, "met": gain >= 0.05}
    if "mpo" in stages and "puma" in stages:
        before = stages["mpo"]["hard_text"] - stages["mpo"]["hard_vision"]
        after = stages["puma"]["hard_text"] - stages["puma"]["hard_vision"]
        met = abs(after) <= abs(before) / 2 and before != 0
        found["puma_hard_gap"] = {"value": after, "before": before, "target": before / 2, "met": met}
    return found


def _goal_cells(name: str, goal: dict[str, Any]) -> tuple[str, str]:
    """(measured, target) of one goal in its own unit: an accuracy in %, a gain or a gap in points."""
    if name == "sft_easy":
        return f"{100 * goal['value']:.1f}%", f">= {100 * goal['target']:.1f}%"
    if name == "puma_hard_gap":
        before = 100 * goal["before"]
        return f"gap {before:+.1f} -> {100 * goal['value']:+.1f} points", f"abs(gap) <= {abs(before) / 2:.1f} points"
    return f"{100 * goal['value']:+.1f} points", f">= {100 * goal['target']:+.1f} points"


def markdown(results: dict[str, Any]) -> str:
    """The accuracy table (stages and baselines x subsets, hard text-vs-vision gap) and the goals."""
    head = "| | " + " | ".join(SUBSETS) + " | hard gap (text - vision) |"
    lines = [f"# mmreason quickstart ({results['preset']['name']}, seed {results['seed']})", "", head,
             "|---" * (len(SUBSETS) + 2) + "|"]  # fmt: skip
    rows = {**results["stages"], **results["baselines"]}
    for name, accuracy in rows.items():
        gap = accuracy.get("hard_text", float("nan")) - accuracy.get("hard_vision", float("nan"))
        cells = [f"{100 * accuracy[s]:.1f}" if s in accuracy else "-" for s in SUBSETS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {100 * gap:+.1f} |")
    lines += ["", "| goal | measured | target | met |", "|---|---|---|---|"]
    for name, goal in results["goals"].items():
        lines.append(f"| {name} | " + " | ".join(_goal_cells(name, goal)) + f" | {goal['met']} |")
    stages, seconds = results["stages"], results["seconds"]
    if "grpo" in stages and "mpo" in stages:

        def hard(name: str) -> float:
            return 100 * _mean([stages[name]["hard_vision"], stages[name]["hard_text"]])

        lines += ["", f"SFT -> GRPO vs SFT -> MPO on hard (mean of both views): {hard('grpo'):.1f}% vs "
                  f"{hard('mpo'):.1f}% (SFT {hard('sft'):.1f}%), in {seconds.get('grpo', 0):.0f} s vs "
                  f"{seconds.get('pairs', 0) + seconds.get('mpo', 0):.0f} s (MMPR pairs + MPO)."]  # fmt: skip
    lines += ["", f"Wall time: {results['seconds']['total']:.0f} s "
              + ", ".join(f"{k} {v:.0f} s" for k, v in results["seconds"].items() if k != "total")
              + f"; load average at start/end: {results['load_average']}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_accuracy(results: dict[str, Any]) -> Any:
    """Grouped bars: accuracy per subset for each stage, chance and majority baselines as markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = results["stages"]
    figure, axis = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(stages))
    for k, (name, accuracy) in enumerate(stages.items()):
        axis.bar([i + k * width for i in range(len(SUBSETS))], [accuracy.get(s, 0) for s in SUBSETS], width,
                 label=name)  # fmt: skip
    centre = [i + 0.4 - width / 2 for i in range(len(SUBSETS))]
    for name, marker in (("chance", "k_"), ("majority", "r_")):
        axis.plot(centre, [results["baselines"][name][s] for s in SUBSETS], marker, markersize=40, label=name)
    axis.set_xticks(centre, SUBSETS)
    axis.set_ylim(0, 1)
    axis.set_ylabel("accuracy (held-out)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_losses(curves: dict[str, dict[str, list[tuple[int, float]]]]) -> Any:
    """One panel per training stage with its logged loss terms against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, max(1, len(curves)), figsize=(4 * max(1, len(curves)), 3), squeeze=False)
    for axis, (stage, terms) in zip(axes[0], curves.items()):
        for key, points in terms.items():
            if points:
                axis.plot([p[0] for p in points], [p[1] for p in points], label=key)
        axis.set_title(stage)
        axis.set_xlabel("step")
        axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def write_report(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write results.json, results.md, accuracy.png and losses.png into `out`; returns their paths."""
    paths = {name: out / name for name in ("results.json", "results.md", "accuracy.png", "losses.png")}
    results = {**results, "goals": goals(results["stages"])}
    paths["results.json"].write_text(json.dumps(results, indent=2, default=str))
    paths["results.md"].write_text(markdown(results))
    plot_accuracy(results).savefig(paths["accuracy.png"], dpi=100)
    plot_losses(results["curves"]).savefig(paths["losses.png"], dpi=100)
    return paths


def summary(results: dict[str, Any], paths: dict[str, Path]) -> str:
    """The one-screen summary: the table, the goals, and where everything went."""
    text = markdown({**results, "goals": goals(results["stages"])})
    where = [f"  {name}: {path}" for name, path in {**results["models"], **paths}.items()]
    return text + "\nModels (load with AutoModelForImageTextToText / AutoProcessor) and report:\n" + "\n".join(where)


__all__ = ["goals", "markdown", "plot_accuracy", "plot_losses", "summary", "write_report"]
