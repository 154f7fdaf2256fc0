"""The lmms-eval model never hands a failed request's error text to lmms-eval as an answer (issue #11 item 7)."""

import types

import pytest

from mmreason.testing import make_image
from tests.generation.stand_in import StandInServer as _Server

from .test_lmms_plugin import lmms_api  # noqa: F401  (fixture)


@pytest.fixture
def failing_server():
    server = _Server(failures=0)
    yield server
    server.httpd.shutdown()


def _requests(texts):
    def doc_to_messages(doc):
        return [{"role": "user", "content": [{"type": "image", "url": make_image(20, 20)},
                                             {"type": "text", "text": doc}]}]  # fmt: skip

    return [types.SimpleNamespace(args=("", doc_to_messages, {"max_new_tokens": 4}, i, "toy", "test"))
            for i in range(len(texts))], {"toy": {"test": texts}}  # fmt: skip


@pytest.mark.usefixtures("lmms_api")
def test_failed_requests_raise_or_become_empty(failing_server):
    from mmreason.eval.lmms_model import GenerationFailed, MMReasonLmms

    requests, task_dict = _requests(["fail-always please", "fine"])
    lm = MMReasonLmms(pretrained="served", base_url=failing_server.url)
    lm.backend.client = lm.backend.client.with_options(max_retries=0)
    lm.task_dict = task_dict
    with pytest.raises(GenerationFailed, match=r"1 of 2 requests failed.*toy\[0\].*500"):
        lm.generate_until(requests)
    lm = MMReasonLmms(pretrained="served", base_url=failing_server.url, on_error="empty")
    lm.backend.client = lm.backend.client.with_options(max_retries=0)
    lm.task_dict = task_dict
    assert lm.generate_until(requests) == ["", "Answer: 42"]
