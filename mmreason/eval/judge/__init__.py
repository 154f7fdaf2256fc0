"""Optional LLM-judge steps of the official protocols (MathVista and MathVerse extraction, MathVerse's judgement,
DynaMath's reformat) through any OpenAI-compatible endpoint, with the official prompts and a persistent cache.

```python
from mmreason.eval.judge import Judge, JudgeClient

judge = Judge(JudgeClient("http://localhost:8000/v1", "Qwen2.5-72B-Instruct"))
run_eval("mathvista_testmini", backend, "eval-results", judge=judge)
```
"""

from .cache import JudgeCache, cache_key
from .client import JudgeClient, JudgeError
from .judge import JUDGE_FAILED, JUDGED, PROMPTS_USED, Judge
from .prompts import PROMPT_VERSIONS, SOURCES

__all__ = [
    "JUDGED",
    "JUDGE_FAILED",
    "PROMPTS_USED",
    "PROMPT_VERSIONS",
    "SOURCES",
    "Judge",
    "JudgeCache",
    "JudgeClient",
    "JudgeError",
    "cache_key",
]
