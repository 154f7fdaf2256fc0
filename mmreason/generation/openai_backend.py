"""[`OpenAIBackend`]: generation through any OpenAI-compatible server (vLLM/SGLang/TGI/OpenAI) with
`openai.AsyncOpenAI`: many requests in flight under a concurrency limit, the client's own retries, and failures
returned as [`GenerationError`]s with their reason."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..model.chat_templates import QWEN_EVAL_SYSTEM
from .errors import GenerationError, UnsupportedRequest
from .openai_messages import to_openai_messages
from .sampling import Sampling, per_request, request_seed, truncate_at_stop
from .served_geometry import check_served_geometry, served_geometry


class OpenAIBackend:
    """Generation through an OpenAI-compatible `/v1/chat/completions` endpoint (greedy by default).

    Requests run on `openai.AsyncOpenAI`, at most `concurrency` in flight (an `asyncio.Semaphore`); `generate` is
    the synchronous entry point (it runs the requests on an event loop of its own, in a helper thread when the
    caller is already inside one), `agenerate` / `agenerate_samples` the asynchronous ones. The `openai` client
    retries connection errors, timeouts, 408/409/429/5xx with exponential backoff (0.5 s doubling to 8 s, jitter)
    and honours a 429's `Retry-After` / `retry-after-ms` (up to 60 s). What still fails — retries exhausted, a 4xx,
    a body that is not JSON or not a chat completion, missing choices or text — comes back as a
    [`GenerationError`] naming the reason, so a job records it and retries the row on its next run.

    Args:
        base_url: e.g. `http://localhost:8000/v1`, as `mmreason serve CHECKPOINT` prints it (vLLM with mmreason's
            plugin, in its own environment: integrations/vllm/README.md).
        model: the served model name.
        api_key: the server's key ("EMPTY" for a local vLLM).
        max_new_tokens: `max_tokens` per request (of requests that set none).
        concurrency: requests in flight at once.
        max_retries: the client's retries per request.
        timeout: seconds per request attempt (the client's `timeout`).
        system_prompt: system turn added to every conversation (`None`: the server's template default).
        served_config: the served model's folder or `config.json` (default: the `root` vLLM lists in `/v1/models`,
            when it is a local folder). When its geometry is not stock vLLM's (`anyres_max_9`, rounding unpad), one
            probe request checks that the server counts image tokens as the model does (vLLM with mmreason's
            plugin); a server that does not is refused ([`ServedGeometryError`]) ...
        allow_geometry_mismatch: ... unless this is set; the mismatch is then in `settings()` (`geometry_mismatch`).
            The served geometry (`vision_aspect_ratio`, `image_unpad_rule`, the probe's counts), when the config
            can be read, is in `settings()` (`served_geometry`), so eval results record it.
        sampling: the decoding of requests that bring none (default: greedy, `temperature=0`).
        http: the async client's HTTP stack: `"httpx"` (the `openai` default) or `"aiohttp"`
            (`openai.DefaultAioHttpClient`, `pip install "openai[aiohttp]"`; less client CPU per request at high
            concurrency, see examples/docs/generation.md).

    Sampling ([`Sampling`]) maps onto the request: `temperature`, `top_p`, `stop`, `max_tokens`; `n > 1` as `n`
    (sampled requests only; a greedy request is sent once and its answer repeated); `seed` as the request's `seed`,
    derived per request ([`request_seed`]); `top_k` and `continue_final_message` in `extra_body` (vLLM/SGLang:
    `{"top_k": k}`, `{"continue_final_message": true, "add_generation_prompt": false}`), which OpenAI's own API
    does not take.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        max_new_tokens: int = 1024,
        concurrency: int = 8,
        max_retries: int = 5,
        timeout: float = 600.0,
        system_prompt: str | None = QWEN_EVAL_SYSTEM,
        served_config: str | None = None,
        allow_geometry_mismatch: bool = False,
        sampling: Sampling | None = None,
        http: str = "httpx",
    ):
        if http not in ("httpx", "aiohttp"):
            raise ValueError(f"http must be 'httpx' or 'aiohttp', not {http!r}")
        try:
            from openai import OpenAI
        except ImportError as error:
            raise ImportError('the OpenAI-compatible backend needs `pip install "mmreason[eval]"` (openai)') from error
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, not {concurrency}")
        self.base_url, self.api_key, self.max_retries, self.timeout = base_url, api_key, max_retries, timeout
        self.model, self.max_new_tokens, self.concurrency = model, max_new_tokens, concurrency
        self.system_prompt, self.http = system_prompt, http
        self.sampling = sampling or Sampling()
        client = OpenAI(base_url=base_url, api_key=api_key, max_retries=max_retries, timeout=timeout)
        self.served_geometry = served_geometry(client, model, served_config)
        self.geometry_mismatch = check_served_geometry(client, model, served_config, allow_geometry_mismatch,
                                                       geometry=self.served_geometry)  # fmt: skip

    @property
    def client(self) -> Any:
        """A sync `openai.OpenAI` client with this backend's connection settings. Assigning a client (e.g.
        `backend.client = backend.client.with_options(max_retries=0)`) adopts its `base_url`, `api_key`,
        `max_retries` and `timeout` for the backend's requests."""
        from openai import OpenAI

        return OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=self.max_retries, timeout=self.timeout)

    @client.setter
    def client(self, client: Any) -> None:
        self.base_url, self.api_key = str(client.base_url), client.api_key
        self.max_retries, self.timeout = client.max_retries, client.timeout

    @property
    def default_sampling(self) -> Sampling:
        """The decoding of requests that bring none (budget: `max_new_tokens`)."""
        return self.sampling.with_budget(self.max_new_tokens)

    def settings(self) -> dict[str, Any]:
        """What decides the outputs (the eval runner keys resumption on it): served model and decoding (and an
        allowed geometry mismatch)."""
        default = self.default_sampling
        settings = {
            "backend": "openai", "served_model": self.model, "system_prompt": self.system_prompt,
            **default.settings(), "do_sample": default.sampled, "temperature": default.effective_temperature,
        }  # fmt: skip
        if self.served_geometry:  # the served model's geometry (and the probe's counts), when its config is readable
            settings["served_geometry"] = {k: v for k, v in self.served_geometry.items() if k != "config"}
        if self.geometry_mismatch:
            settings["geometry_mismatch"] = self.geometry_mismatch
        return settings

    def generate(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling | list[Sampling] | None = None
    ) -> list[Any]:
        """One answer per conversation (a list of `n` answers for requests with `n > 1`) or its
        [`GenerationError`]; `sampling`: one setting for all, or one per conversation."""
        return _run(self.agenerate(conversations, sampling))

    def generate_samples(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling | list[Sampling] | None = None
    ) -> list[list[str] | GenerationError]:
        """`n` answers per conversation, always as a list, or its [`GenerationError`]."""
        return _run(self.agenerate_samples(conversations, sampling))

    async def agenerate(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling | list[Sampling] | None = None
    ) -> list[Any]:
        """[`generate`], awaitable."""
        settings = per_request(sampling, len(conversations), self.default_sampling)
        samples = await self._samples(conversations, settings)
        return [s[0] if isinstance(s, list) and setting.n == 1 else s for s, setting in zip(samples, settings)]

    async def agenerate_samples(
        self, conversations: list[list[dict[str, Any]]], sampling: Sampling | list[Sampling] | None = None
    ) -> list[list[str] | GenerationError]:
        """[`generate_samples`], awaitable."""
        return await self._samples(conversations, per_request(sampling, len(conversations), self.default_sampling))

    async def _samples(
        self, conversations: list[list[dict[str, Any]]], settings: list[Sampling]
    ) -> list[list[str] | GenerationError]:
        from openai import AsyncOpenAI

        if any(s.num_beams > 1 for s in settings):
            raise UnsupportedRequest("the OpenAI-compatible backend does not do beam search (num_beams > 1)")
        limit = asyncio.Semaphore(self.concurrency)
        http_client = None
        if self.http == "aiohttp":
            from openai import DefaultAioHttpClient  # needs `openai[aiohttp]` (httpx-aiohttp)

            http_client = DefaultAioHttpClient()
        async with AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.api_key,
            max_retries=self.max_retries,
            timeout=self.timeout,
            http_client=http_client,
        ) as client:
            requests = [self._one(client, limit, c, s) for c, s in zip(conversations, settings)]
            return list(await asyncio.gather(*requests))

    async def _one(
        self, client: Any, limit: asyncio.Semaphore, conversation: list[dict[str, Any]], sampling: Sampling
    ) -> list[str] | GenerationError:
        """All samples of one request: one request with `n`; a server that answers fewer choices (one that ignores
        `n`, as TGI does) is asked for the rest one sample at a time, sample `k` seeded with `request_seed(seed,
        conversation, k)`."""
        draws = sampling.n if sampling.sampled else 1
        async with limit:
            messages = await asyncio.to_thread(to_openai_messages, conversation)
            if self.system_prompt is not None and messages[0]["role"] != "system":
                messages.insert(0, {"role": "system", "content": self.system_prompt})
            answers = await self._request(client, messages, sampling, conversation, draws, 0)
        if isinstance(answers, GenerationError):
            return answers
        if len(answers) < draws:
            more_requests = [self._request(client, messages, sampling, conversation, 1, k)
                             for k in range(len(answers), draws)]  # fmt: skip
            rest = await asyncio.gather(*[self._limited(limit, request) for request in more_requests])
            for more in rest:
                if isinstance(more, GenerationError):
                    return more
                answers.extend(more)
        answers = [truncate_at_stop(a, sampling.stop) for a in answers]
        return answers if sampling.sampled else answers * sampling.n

    @staticmethod
    async def _limited(limit: asyncio.Semaphore, coroutine: Any) -> Any:
        async with limit:
            return await coroutine

    async def _request(
        self, client: Any, messages: list[dict[str, Any]], sampling: Sampling, conversation: list[dict[str, Any]],
        n: int, sample: int,
    ) -> list[str] | GenerationError:  # fmt: skip
        """One chat completion asking for `n` choices (1..n of them back), or its [`GenerationError`]."""
        import openai

        try:
            reply = await client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=sampling.max_new_tokens,
                temperature=sampling.effective_temperature, **request_options(sampling, conversation, n, sample),
            )  # fmt: skip
        except openai.OpenAIError as error:
            return GenerationError(f"{type(error).__name__}: {error}")
        except ValueError as error:  # a JSON body that does not parse (json.JSONDecodeError)
            return GenerationError(f"malformed response: the body is not valid JSON ({error})")
        return reply_texts(reply, n)


def request_options(
    sampling: Sampling, conversation: list[dict[str, Any]], n: int = 1, sample: int = 0
) -> dict[str, Any]:
    """The keyword arguments beyond model/messages/max_tokens/temperature of a request for `n` samples starting at
    sample `sample` (see [`OpenAIBackend`])."""
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if sampling.stop:
        options["stop"] = list(sampling.stop)
    if sampling.sampled:
        if sampling.top_p is not None:
            options["top_p"] = sampling.top_p
        if n > 1:
            options["n"] = n
        if sampling.seed is not None:
            options["seed"] = request_seed(sampling.seed, conversation, sample)
        if sampling.top_k is not None:
            extra["top_k"] = sampling.top_k
    if sampling.continue_final_message:
        extra.update(continue_final_message=True, add_generation_prompt=False)
    if extra:
        options["extra_body"] = extra
    return options


def reply_texts(reply: Any, n: int) -> list[str] | GenerationError:
    """The answers (1 to `n`) of a chat completion in choice order, or a [`GenerationError`] saying what is
    malformed (not a chat completion, no choices or more than `n`, a choice without text)."""
    from openai.types.chat import ChatCompletion

    if not isinstance(reply, ChatCompletion):
        return GenerationError(f"malformed response: not a chat completion ({str(reply)[:120]!r})")
    choices = getattr(reply, "choices", None)
    if not isinstance(choices, list) or not 1 <= len(choices) <= n:
        count = len(choices) if isinstance(choices, list) else "no"
        return GenerationError(f"malformed response: {count} choices for n={n}")
    texts = []
    for choice in sorted(choices, key=lambda c: getattr(c, "index", 0) or 0):
        content = getattr(getattr(choice, "message", None), "content", None)
        if not isinstance(content, str):
            return GenerationError("malformed response: a choice without text content")
        texts.append(content)
    return texts


def _run(coroutine: Any) -> Any:
    """Run a coroutine to completion from synchronous code (in a helper thread when a loop is already running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


__all__ = ["OpenAIBackend", "reply_texts", "request_options"]
