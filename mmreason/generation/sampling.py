"""[`Sampling`]: per-request decoding settings (budget, greedy or sampled, stop sequences) shared by the backends."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Sampling:
    """How one request is decoded. The default is greedy decoding, the benchmarks' official setting.

    Args:
        max_new_tokens: generation budget (`None`: the backend's).
        temperature: sampling temperature; requests are sampled when it is > 0 (unless `do_sample` says otherwise).
        top_p: nucleus sampling mass (`None`: the model's/server's default).
        do_sample: explicit greedy (`False`) or sampled (`True`) decoding; `None`: sampled iff `temperature > 0`.
            Sampled with no temperature given means temperature 1.
        stop: stop sequences; generation stops at the first one and the answer is cut before it.
        num_beams: beam search width (transformers only; 1: none).
    """

    max_new_tokens: int | None = None
    temperature: float = 0.0
    top_p: float | None = None
    do_sample: bool | None = None
    stop: tuple[str, ...] = ()
    num_beams: int = 1

    @property
    def sampled(self) -> bool:
        """Whether this request is sampled (else greedy)."""
        return self.temperature > 0 if self.do_sample is None else bool(self.do_sample)

    @property
    def effective_temperature(self) -> float:
        """The temperature actually used: 0 when greedy, 1 when sampled without one."""
        if not self.sampled:
            return 0.0
        return self.temperature if self.temperature > 0 else 1.0

    def with_budget(self, max_new_tokens: int) -> Sampling:
        """This setting with `max_new_tokens` filled in when it is unset."""
        return self if self.max_new_tokens is not None else replace(self, max_new_tokens=max_new_tokens)

    def settings(self) -> dict[str, Any]:
        """The fields as a JSON-able dict (what a run's fingerprint records)."""
        return {**asdict(self), "stop": list(self.stop)}

    @classmethod
    def from_gen_kwargs(cls, gen_kwargs: dict[str, Any], max_new_tokens: int | None = None) -> Sampling:
        """lmms-eval's `generation_kwargs` (`until`, `temperature`, `do_sample`, `top_p`, `max_new_tokens`,
        `num_beams`) → a `Sampling`; `max_new_tokens` is the default budget."""
        until = gen_kwargs.get("until") or ()
        until = (until,) if isinstance(until, str) else tuple(until)
        top_p = gen_kwargs.get("top_p")
        do_sample = gen_kwargs.get("do_sample")
        return cls(
            max_new_tokens=int(gen_kwargs.get("max_new_tokens") or max_new_tokens or 0) or None,
            temperature=float(gen_kwargs.get("temperature") or 0.0),
            top_p=None if top_p is None else float(top_p),
            do_sample=None if do_sample is None else bool(do_sample),
            stop=tuple(s for s in until if s),
            num_beams=int(gen_kwargs.get("num_beams") or 1),
        )


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """`text` cut before the first of the stop sequences it contains (as lmms-eval's own models do)."""
    for sequence in stop:
        if sequence:
            text = text.split(sequence)[0]
    return text


def per_request(sampling: Sampling | list[Sampling] | None, count: int, default: Sampling) -> list[Sampling]:
    """One `Sampling` per request: `None` → `default`; one value → repeated; a list must have `count` items.
    Unset budgets take `default`'s."""
    if sampling is None or isinstance(sampling, Sampling):
        sampling = [sampling or default] * count
    if len(sampling) != count:
        raise ValueError(f"{len(sampling)} sampling settings given for {count} conversations")
    return [s.with_budget(default.max_new_tokens or 1024) for s in sampling]


__all__ = ["Sampling", "per_request", "truncate_at_stop"]
