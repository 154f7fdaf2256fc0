"""Generation backends shared by evaluation, synthesis and GRPO.

Two backends: transformers in-process, or any OpenAI-compatible server (vLLM/SGLang).

Both take conversations in HF chat format whose image parts carry their image (`{"type": "image", "image": PIL}`)
and return one string per conversation. Greedy decoding by default, as the benchmarks' official settings;
`generate(conversations, sampling)` takes per-request [`Sampling`] (budget, temperature/top_p/do_sample, stop
sequences, at which answers are also cut).

* [`TransformersBackend`]: `AutoModelForImageTextToText`-style model + processor, batched (left padding).
* [`OpenAIBackend`]: `/v1/chat/completions` with images as base64 data URIs, requests in parallel threads; the
  `openai` client retries transient server errors (429/5xx, timeouts) with backoff. A request that still fails is
  returned as an [`GenerationError`] so the run keeps going and the row can be retried on resume. vLLM 0.33 cannot
  share an environment with transformers 5.23, so this is how vLLM-served exports are evaluated.
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
