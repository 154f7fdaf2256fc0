"""The benchmarks `mmreason eval` knows: Hub dataset, splits, row key, image columns and scorer of each.

* `mathvista_testmini`: `AI4Math/MathVista` (testmini); key `pid`; image `decoded_image`.
* `mathverse_testmini`: `CaraJ/MathVerse-lmmseval` (testmini, testmini); key `sample_index`; image `image` (none
  for "Text Only" rows).
* `mmmu_val`: `lmms-lab-encoder/MMMU` (validation); key `id`; images `image_k` per `<image k>` tag.
* `mmmu_pro_standard`: `MMMU/MMMU_Pro` (standard (10 options), test); key `id`; images `image_k` per tag.
* `mathvision_testmini`: `MathLLMs/MathVision` (testmini); key `id`; image `decoded_image`.
* `dynamath`: `DynaMath/DynaMath_Sample` (splits `sample_variant1` … `sample_variant10`); key `id` + variant;
  image `decoded_image`; average and worst-case accuracy.
* `wemath_testmini`: `We-Math/We-Math` (testmini); key `ID` + `key`; image `image_path`; accuracy and the four
  dimensions.
* `procedural`: mmreason's procedural set (`mmreason.data.procedural.save`; config `test`, splits
  `easy_vision`, `easy_text`, `hard_vision`, `hard_text`); key `id` + `view`; image `image`; accuracy per subset.

A row's key must be unique across the rows evaluated (We-Math's sub-problems and their composite question share
`ID`; DynaMath's ten variants of a seed question share `id` and differ by split, which the runner stores in the
`variant` column). A row whose declared image is missing or unreadable is an error for that row, never a text-only
prompt. `--data` may point at a local copy instead (a folder of Parquet files or a `datasets` folder with README
`configs:`), which is what tests and offline clusters use.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from .scorers.base import Scorer

#: the column the runner adds with the split a row came from (DynaMath's variants)
SPLIT_COLUMN = "variant"
_IMAGE_TAG = re.compile(r"<image\s*(\d+)>")


class RowError(ValueError):
    """A benchmark row that cannot be turned into a prompt (missing key field, missing image)."""


@dataclass(frozen=True)
class Benchmark:
    """Where a benchmark's rows come from, how each is keyed and shown, and which scorer judges them.

    Args:
        name: the name `mmreason eval --benchmark` takes.
        scorer_path: `module:Class` under `mmreason.eval.scorers`.
        dataset: the Hub dataset id.
        splits: the split(s) evaluated; several are concatenated, each row tagged with its split in `variant`.
        config: the Hub config name, if any.
        key_fields: the fields whose values together identify a row (`variant` is the split).
        image_columns: the columns holding the row's images, in prompt order.
        image_placeholders: images are the `image_k` columns named by `<image k>` tags in the question and
            options (MMMU), in order of first appearance, instead of every column of `image_columns`.
        text_only: `(field, value)`: rows where `field == value` have no image (MathVerse "Text Only").
        full_rows: the number of rows of the official split(s); a run over fewer is reported as partial.
        published: a public benchmark with an official script (listed in the README's strict-vs-official
            differences); `False` for mmreason's own procedural set.
    """

    name: str
    scorer_path: str
    dataset: str
    splits: tuple[str, ...]
    config: str | None = None
    key_fields: tuple[str, ...] = ("id",)
    image_columns: tuple[str, ...] = ("decoded_image",)
    image_placeholders: bool = False
    text_only: tuple[str, str] | None = None
    full_rows: int | None = None
    published: bool = True

    @property
    def split(self) -> str:
        """The split(s) as one string (`a+b` for several, the `datasets` split syntax)."""
        return "+".join(self.splits)

    def scorer(self, **kwargs: Any) -> Scorer:
        """A new scorer instance (`kwargs` go to its constructor, e.g. `backend="math_verify"`)."""
        module, name = self.scorer_path.split(":")
        return getattr(importlib.import_module(f"mmreason.eval.scorers.{module}"), name)(**kwargs)

    def row_key(self, row: dict[str, Any]) -> str:
        """The row's key: its `key_fields` joined by "/" (e.g. We-Math "2steps_7/2steps_multi")."""
        missing = [f for f in self.key_fields if row.get(f) is None]
        if missing:
            raise RowError(
                f"{self.name}: row has no {' / '.join(missing)} (key fields {list(self.key_fields)}; "
                f"columns: {sorted(row)})"
            )
        return "/".join(str(row[f]) for f in self.key_fields)

    def image_fields(self, row: dict[str, Any]) -> list[str]:
        """The columns whose images this row's prompt needs, in prompt order."""
        if self.text_only and str(row.get(self.text_only[0])) == self.text_only[1]:
            return []
        if self.image_placeholders:
            text = f"{row.get('question') or ''} {row.get('options') or ''}"
            fields = [f"image_{k}" for k in dict.fromkeys(_IMAGE_TAG.findall(text))]
            return fields or list(self.image_columns[:1])
        return list(self.image_columns)

    def images(self, row: dict[str, Any]) -> list[Any]:
        """The row's images (as stored); raises [`RowError`] naming a declared image that is missing."""
        images = []
        for field in self.image_fields(row):
            value = row.get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                state = "not a column" if field not in row else "empty"
                raise RowError(
                    f"{self.name}: image column {field!r} is {state} (declared: {list(self.image_columns)})"
                )
            images.append(value)
        return images


_MMMU_IMAGES = tuple(f"image_{k}" for k in range(1, 8))

BENCHMARKS = {
    b.name: b
    for b in (
        Benchmark(
            "mathvista_testmini",
            "mathvista:MathVistaScorer",
            "AI4Math/MathVista",
            ("testmini",),
            key_fields=("pid",),
            full_rows=1000,
        ),
        Benchmark(
            "mathverse_testmini",
            "mathverse:MathVerseScorer",
            "CaraJ/MathVerse-lmmseval",
            ("testmini",),
            "testmini",
            key_fields=("sample_index",),
            image_columns=("image",),
            text_only=("problem_version", "Text Only"),
            full_rows=3940,
        ),
        Benchmark(
            "mmmu_val",
            "mmmu:MMMUScorer",
            "lmms-lab-encoder/MMMU",
            ("validation",),
            image_columns=_MMMU_IMAGES,
            image_placeholders=True,
            full_rows=900,
        ),
        Benchmark(
            "mmmu_pro_standard",
            "mmmu_pro:MMMUProScorer",
            "MMMU/MMMU_Pro",
            ("test",),
            "standard (10 options)",
            image_columns=_MMMU_IMAGES,
            image_placeholders=True,
            full_rows=1730,
        ),
        Benchmark(
            "mathvision_testmini", "mathvision:MathVisionScorer", "MathLLMs/MathVision", ("testmini",), full_rows=304
        ),
        Benchmark(
            "dynamath",
            "dynamath:DynaMathScorer",
            "DynaMath/DynaMath_Sample",
            tuple(f"sample_variant{k}" for k in range(1, 11)),
            key_fields=("id", SPLIT_COLUMN),
            full_rows=5010,
        ),
        Benchmark(
            "wemath_testmini",
            "wemath:WeMathScorer",
            "We-Math/We-Math",
            ("testmini",),
            key_fields=("ID", "key"),
            image_columns=("image_path",),
            full_rows=1740,
        ),
        Benchmark(  # mmreason's own set: no Hub copy, `--data` a folder `mmreason.data.procedural.save` wrote
            "procedural",
            "procedural:ProceduralScorer",
            "mmreason/procedural",
            ("easy_vision", "easy_text", "hard_vision", "hard_text"),
            "test",
            key_fields=("id", "view"),
            image_columns=("image",),
            published=False,
        ),
    )
}


def get_benchmark(name: str) -> Benchmark:
    """The registered benchmark `name`; raises with the known names otherwise."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARKS)}")
    return BENCHMARKS[name]


def strict_changes_markdown() -> str:
    """The README's list of every `strict` vs `official` difference of the published benchmarks' scorers."""
    lines, seen = [], set()
    for bench in BENCHMARKS.values():
        scorer = bench.scorer()
        if scorer.name in seen or not bench.published:
            continue
        seen.add(scorer.name)
        lines.append(f"**{scorer.name}** (`{bench.scorer_path.replace(':', '.')}`)\n")
        lines.extend(f"- {change}" for change in scorer.STRICT_CHANGES)
        lines.append("")
    return "\n".join(lines).strip() + "\n"


__all__ = ["BENCHMARKS", "SPLIT_COLUMN", "Benchmark", "RowError", "get_benchmark", "strict_changes_markdown"]
