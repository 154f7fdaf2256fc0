"""Stages for the runner tests (a module of its own: datatrove's workers import it to unpickle them).

`ToyStage` makes 0, 1 or 2 canonical rows per input row (by the row's number), the second one with a small
image, and sleeps a little per batch; rows whose number is a multiple of `always_retry` fail with a retryable
error on every attempt, multiples of `never_retry` with a permanent one, and ids in `flaky` fail (retryable)
only on their first attempt in this process.
"""

from __future__ import annotations

import time
from typing import Any

from PIL import Image

from mmreason.synth import StageFailure


def make_input(count: int) -> list[dict[str, Any]]:
    """Input rows `q0000`..: an id, a question and (every third row) an image."""
    rows = []
    for i in range(count):
        image = Image.new("RGB", (4, 3), (i % 256, 7, 200)) if i % 3 == 0 else None
        rows.append({"id": f"q{i:04d}", "question": f"What is {i} + {i}?", "image": image})
    return rows


def expected_outputs(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows `ToyStage` makes for `row`, written out by hand: the reference the runner's output is held to."""
    number = int(row["id"][1:])
    outputs = []
    for k in range(number % 3):
        answer = f"{2 * number} (take {k})"
        images = [row["image"] or Image.new("RGB", (2, 2), (number % 256, 0, 0))] if k == 1 else []
        user = [{"type": "image", "text": None}] * len(images) + [{"type": "text", "text": row["question"]}]
        outputs.append(
            {
                "id": f"{row['id']}-{k}",
                "source": "toy",
                "category": "single_image" if images else "text",
                "quality_group": "",
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": [{"type": "text", "text": answer}]},
                ],
                "images": images,
                "videos": [],
            }
        )
    return outputs


class ToyStage:
    """See the module docstring."""

    name = "toy"

    def __init__(
        self,
        prompt: str = "toy@1",
        sleep: float = 0.0,
        always_retry: int = 0,
        never_retry: int = 0,
        flaky: tuple[str, ...] = (),
    ) -> None:
        self.prompt, self.sleep = prompt, sleep
        self.always_retry, self.never_retry = always_retry, never_retry
        self.flaky = set(flaky)
        self.seen: list[str] = []

    def settings(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "model": "toy-model", "sampling": {"temperature": 0.0}}

    def process_batch(self, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]] | StageFailure]:
        if self.sleep:
            time.sleep(self.sleep)
        results: list[list[dict[str, Any]] | StageFailure] = []
        for row in rows:
            self.seen.append(row["id"])
            number = int(row["id"][1:])
            if row["id"] in self.flaky:
                self.flaky.discard(row["id"])
                results.append(StageFailure("server error 503: overloaded", retryable=True))
            elif self.always_retry and number % self.always_retry == 0:
                results.append(StageFailure("timeout after 30 s", retryable=True))
            elif self.never_retry and number % self.never_retry == 0:
                results.append(StageFailure("no 'Final answer:' in the response", retryable=False))
            else:
                results.append(expected_outputs(row))
        return results
