"""The Gradio demo: image + text chat with a reasoning model, answers streamed token by token, the rationale in a
collapsible section and the final answer apart (`pip install "mmreason[space]"`).

    from mmreason.serve.app import build_demo
    build_demo().launch()

`spaces/mmreason-demo/app.py` is this, deployable as a Hugging Face Space (ZeroGPU-ready: the chat function runs
under `spaces.GPU` when the `spaces` package is installed, a no-op off ZeroGPU).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .chat import respond
from .models import ServedModel, load_served_model
from .uploads import DEFAULT_LIMITS, UploadLimits

#: LaTeX in answers (the recipes are math-heavy)
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


def zero_gpu(fn: Callable[..., Any], duration: int = 120) -> Callable[..., Any]:
    """`fn` under `spaces.GPU(duration=...)` when the `spaces` package is installed (it does nothing unless the
    Space runs on ZeroGPU); `fn` itself otherwise."""
    try:
        import spaces
    except ImportError:
        return fn
    gpu = getattr(spaces, "GPU", None)  # None: a folder named `spaces` on the path (this repository's own)
    return fn if gpu is None else gpu(duration=duration)(fn)


def example_images(folder: Path) -> list[dict[str, Any]]:
    """Offline examples: three procedural problems (a bar chart, a clock, numbered shapes) saved as PNGs in
    `folder`, each with its question (the text-rich view, which the quickstart's tiny model answers best)."""
    from ..data import procedural

    examples = []
    for number, family in enumerate(("bars", "clock", "numbers")):
        problem = procedural.generate(1, seed=2024 + number, level="easy", families=[family])[0]
        path = folder / f"{family}.png"
        problem.image.save(path)
        examples.append({"text": procedural.prompt_of(problem, view="text"), "files": [str(path)]})
    return examples


def build_demo(
    served: ServedModel | None = None, limits: UploadLimits = DEFAULT_LIMITS, title: str = "mmreason"
) -> Any:
    """The `gr.ChatInterface` (multimodal, several images per turn, multi-turn; max new tokens and temperature
    exposed; stop button) serving `served` (default: [`load_served_model`])."""
    import gradio as gr

    served = served or load_served_model()
    backend = served.backend

    def chat(message: dict[str, Any], history: list[dict[str, Any]], max_new_tokens: int, temperature: float
             ) -> Iterator[list[dict[str, Any]]]:  # fmt: skip
        yield from respond(backend, message, history, max_new_tokens, temperature, limits)

    chat.__name__ = "respond"  # the API endpoint: /respond
    folder = Path(tempfile.mkdtemp(prefix="mmreason-demo-examples-"))
    textbox = gr.MultimodalTextbox(
        file_types=["image", ".txt"], file_count="multiple", sources=["upload"],
        placeholder=f"Ask about one or more images (up to {limits.max_images} per message)",
    )  # fmt: skip
    return gr.ChatInterface(
        zero_gpu(chat),
        multimodal=True,
        textbox=textbox,
        chatbot=gr.Chatbot(latex_delimiters=LATEX, placeholder="Upload an image and ask a question."),
        additional_inputs=[
            gr.Slider(16, 2048, value=256, step=16, label="Max new tokens"),
            gr.Slider(0.0, 1.5, value=0.0, step=0.05, label="Temperature (0: greedy)"),
        ],
        examples=[[example, 256, 0.0] for example in example_images(folder)],
        title=title,
        description=f"Serving {served.description}. The model reasons step by step; its steps are in the "
        "collapsible *Reasoning* section, its final answer below.",
        stop_btn=True,
        cache_examples=False,
    )


__all__ = ["LATEX", "build_demo", "example_images", "zero_gpu"]
