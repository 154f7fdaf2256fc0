"""Serving mmreason models to people: the Gradio chat demo (`app`), its turn logic (`chat`: history -> conversation
-> streamed reasoning + final answer), untrusted uploads (`uploads`), answer splitting (`reasoning`) and which model
to serve (`models`). Only `app` needs Gradio (`pip install "mmreason[space]"`)."""

from .chat import answer_messages, respond, to_conversation
from .models import MODEL_ENV, load_served_model, resolve_model
from .reasoning import split_answer
from .uploads import UploadLimits, read_uploads

__all__ = [
    "MODEL_ENV",
    "UploadLimits",
    "answer_messages",
    "load_served_model",
    "read_uploads",
    "resolve_model",
    "respond",
    "split_answer",
    "to_conversation",
]
