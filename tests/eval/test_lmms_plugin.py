"""The lmms-eval plugin: entry point, manifest, registry resolution, and the chat model on a tiny checkpoint.

With lmms-eval installed the real `ModelRegistryV2` resolves `--model mmreason`; without it (CI: lmms-eval pulls
~155 packages) the same checks run against minimal stand-ins of its two documented interfaces, `ModelManifest` and
the `lmms` base class.
"""

import importlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from importlib.metadata import entry_points

import pytest

from mmreason.testing import build_tiny, make_image

HAVE_LMMS = importlib.util.find_spec("lmms_eval") is not None


def test_entry_point_is_declared():
    (entry,) = [e for e in entry_points(group="lmms_eval.models") if e.name == "mmreason"]
    assert entry.value == "mmreason.eval.lmms_plugin:manifests"


@pytest.fixture
def lmms_api(monkeypatch):
    """The real lmms-eval, or stand-ins with its documented `ModelManifest` fields and `lmms` base."""
    if HAVE_LMMS:
        return importlib.import_module("lmms_eval.api.model").lmms

    @dataclass(frozen=True)
    class ModelManifest:
        model_id: str
        simple_class_path: str | None = None
        chat_class_path: str | None = None
        aliases: tuple[str, ...] = ()

    class lmms:  # lmms-eval's name
        is_simple = True

        def __init__(self):
            self.task_dict = {}

    names = ("lmms_eval", "lmms_eval.models", "lmms_eval.models.registry_v2", "lmms_eval.api", "lmms_eval.api.model")
    modules = {name: types.ModuleType(name) for name in names}
    modules["lmms_eval.models.registry_v2"].ModelManifest = ModelManifest
    modules["lmms_eval.api.model"].lmms = lmms
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, "mmreason.eval.lmms_model", raising=False)
    return lmms


def test_manifest_resolves_to_a_chat_model(lmms_api):
    entry = next(e for e in entry_points(group="lmms_eval.models") if e.name == "mmreason")
    (manifest,) = entry.load()()
    assert manifest.model_id == "mmreason" and "mmreason_chat" in manifest.aliases
    module, name = manifest.chat_class_path.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, lmms_api) and cls.is_simple is False
    if HAVE_LMMS:
        from lmms_eval.models.registry_v2 import ModelRegistryV2

        registry = ModelRegistryV2()
        registry.load_entrypoint_manifests()
        resolved = registry.resolve("mmreason")
        assert resolved.model_type == "chat" and resolved.class_path == manifest.chat_class_path


def test_chat_model_generates_for_lmms_requests(lmms_api, tmp_path):
    model, processor = build_tiny(seed=6)
    model.save_pretrained(tmp_path / "tiny")
    processor.save_pretrained(tmp_path / "tiny")
    from mmreason.eval.lmms_model import MMReasonLmms

    lm = MMReasonLmms(pretrained=str(tmp_path / "tiny"), batch_size="2", max_new_tokens="4", dtype="float32")
    docs = [{"question": "What is shown?", "image": make_image(50, 40, seed=i)} for i in range(3)]
    lm.task_dict = {"toy": {"test": docs}}

    def doc_to_messages(doc):
        return [
            {
                "role": "user",
                "content": [{"type": "image", "url": doc["image"]}, {"type": "text", "text": doc["question"]}],
            }
        ]

    requests = [
        types.SimpleNamespace(args=("", doc_to_messages, {"max_new_tokens": 3}, i, "toy", "test")) for i in range(3)
    ]
    outputs = lm.generate_until(requests)
    assert len(outputs) == 3 and all(isinstance(text, str) for text in outputs)
    with pytest.raises(NotImplementedError):
        lm.loglikelihood(requests)
