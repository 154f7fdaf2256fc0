"""[`Sampling`]: per-request decoding settings (budget, greedy or sampled, top-k/p, `n` samples, seed, stop
sequences, assistant-prefix continuation) shared by the backends."""

from __future__ import annotations

import hashlib
import json
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
        n: samples per request. With `n > 1` a backend's `generate` returns a list of `n` answers for the request
            (one string for `n == 1`, as before); `generate_samples` always returns lists.
        top_k: top-k sampling (`None`: the model's/server's default; on a server it goes in vLLM/SGLang's
            `extra_body`, which OpenAI's own API does not take).
        seed: seeds sampled requests reproducibly *per request*: each sample's seed is derived from this one, the
            request's content (text and image bytes) and the sample's index ([`request_seed`]), so the answers do
            not depend on batch composition, order or worker. `None`: the backend's global random state.
        continue_final_message: the conversation ends in an assistant turn whose text the model continues (no new
            generation prompt, the turn left open; vLLM's `continue_final_message`); answers are the continuation.
    """

    max_new_tokens: int | None = None
    temperature: float = 0.0
    top_p: float | None = None
    do_sample: bool | None = None
    stop: tuple[str, ...] = ()
    num_beams: int = 1
    n: int = 1
    top_k: int | None = None
    seed: int | None = None
    continue_final_message: bool = False

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, not {self.n}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, not {self.top_k}")

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
        """The fields as a JSON-able dict (what a run's fingerprint records). The fields added after the first
        release (`n`, `top_k`, `seed`, `continue_final_message`) appear only when set, so fingerprints recorded
        before them still match."""
        values = {**asdict(self), "stop": list(self.stop)}
        return {k: v for k, v in values.items() if k not in _LATER_DEFAULTS or v != _LATER_DEFAULTS[k]}

    @classmethod
    def from_gen_kwargs(cls, gen_kwargs: dict[str, Any], max_new_tokens: int | None = None) -> Sampling:
        """lmms-eval's `generation_kwargs` (`until`, `temperature`, `do_sample`, `top_p`, `top_k`, `seed`,
        `max_new_tokens`, `num_beams`) → a `Sampling`; `max_new_tokens` is the default budget."""
        until = gen_kwargs.get("until") or ()
        until = (until,) if isinstance(until, str) else tuple(until)
        top_p = gen_kwargs.get("top_p")
        do_sample = gen_kwargs.get("do_sample")
        top_k, seed = gen_kwargs.get("top_k"), gen_kwargs.get("seed")
        return cls(
            max_new_tokens=int(gen_kwargs.get("max_new_tokens") or max_new_tokens or 0) or None,
            temperature=float(gen_kwargs.get("temperature") or 0.0),
            top_p=None if top_p is None else float(top_p),
            do_sample=None if do_sample is None else bool(do_sample),
            stop=tuple(s for s in until if s),
            num_beams=int(gen_kwargs.get("num_beams") or 1),
            top_k=int(top_k) if top_k else None,
            seed=None if seed is None else int(seed),
        )


#: the fields added after the first release, with their defaults (left out of `settings()` at these)
_LATER_DEFAULTS: dict[str, Any] = {"n": 1, "top_k": None, "seed": None, "continue_final_message": False}


def request_seed(seed: int, conversation: Any, sample: int = 0) -> int:
    """The seed of sample `sample` of a request: SHA-256 of the base seed, the request's content ([`request_key`])
    and the sample index, as a 63-bit integer (a valid `torch` and vLLM/OpenAI seed)."""
    digest = hashlib.sha256(f"{seed}\x00{request_key(conversation)}\x00{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def request_key(conversation: Any) -> str:
    """A content digest of a conversation: its JSON with every image replaced by a digest of its bytes (PIL pixels,
    encoded bytes, arrays) or its path."""
    return hashlib.sha256(json.dumps(conversation, sort_keys=True, default=_digest).encode()).hexdigest()


def _digest(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "bytes:" + hashlib.sha256(value).hexdigest()
    if hasattr(value, "tobytes"):  # PIL images and numpy arrays
        shape = (getattr(value, "mode", ""), getattr(value, "size", ""), getattr(value, "shape", ""))
        return f"pixels:{shape}:" + hashlib.sha256(value.tobytes()).hexdigest()
    return f"{type(value).__name__}:{value}"


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


__all__ = ["Sampling", "per_request", "request_key", "request_seed", "truncate_at_stop"]
