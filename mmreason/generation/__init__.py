"""Generation backends shared by evaluation, synthesis and GRPO.

Two backends: transformers in-process, or any OpenAI-compatible server (vLLM/SGLang).

Both take conversations in HF chat format whose image parts carry their image (`{"type": "image", "image": PIL}`)
and return one string per conversation (a list of `n` for requests with `n > 1`; `generate_samples` always
returns lists). Greedy decoding by default, as the benchmarks' official settings; `generate(conversations,
sampling)` takes per-request [`Sampling`] (budget, temperature/top-k/top-p/do_sample, `n`, a per-request `seed`,
stop sequences, at which answers are also cut, `continue_final_message`).

* [`TransformersBackend`]: `AutoModelForImageTextToText`-style model + processor, batched (left padding); seeded
  samples are drawn per row, independent of the batch.
* [`OpenAIBackend`]: `/v1/chat/completions` on `openai.AsyncOpenAI` with a concurrency limit (sync `generate`,
  async `agenerate`), encoded PNG/JPEG images sent as data URIs as they are; the `openai` client retries transient
  errors (429 with its Retry-After, 5xx, timeouts, dropped connections) with backoff. A request that still fails,
  or whose response is malformed, is returned as a [`GenerationError`] with its reason so the run keeps going and
  the row can be retried on resume. vLLM 0.33 cannot share an environment with transformers 5.23, so this is how
  vLLM-served exports are evaluated.
"""

from .errors import GenerationError, ServedGeometryError, UnsupportedRequest
from .openai_backend import OpenAIBackend
from .openai_messages import image_data_uri, to_openai_messages, video_data_uri
from .sampling import Sampling, request_key, request_seed, truncate_at_stop
from .served_geometry import check_served_geometry
from .transformers_backend import TransformersBackend

__all__ = [
    "GenerationError", "OpenAIBackend", "Sampling", "ServedGeometryError", "TransformersBackend",
    "UnsupportedRequest", "check_served_geometry", "image_data_uri", "request_key", "request_seed",
    "to_openai_messages", "truncate_at_stop", "video_data_uri",
]  # fmt: skip
