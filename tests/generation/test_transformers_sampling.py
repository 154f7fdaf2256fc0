"""In-process sampling for synthesis (issue #13 item 1): `n` samples, per-request seeds independent of the batch,
top-k, and assistant-prefix continuation (`continue_final_message`).

References: a stock forward of the tiny model (the sampling distribution), stock greedy `model.generate` (top-1
sampling, continuation of a hand-concatenated prompt); none of them go through the backend."""

from collections import Counter

import pytest
import torch

from mmreason.generation import Sampling, TransformersBackend
from mmreason.testing import build_tiny, make_image


def _conversation(text, seed=0):
    image = make_image(40, 30, seed=seed)
    return [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": text}]}]


@pytest.fixture(scope="module")
def tiny_model():
    return build_tiny(seed=5)


def _backend(tiny_model, batch_size=4, max_new_tokens=6):
    return TransformersBackend(tiny_model, batch_size=batch_size, max_new_tokens=max_new_tokens, system_prompt=None,
                               device="cpu")  # fmt: skip


def test_seeded_samples_do_not_depend_on_the_batch(tiny_model):
    a, b, c = _conversation("Describe it.", 1), _conversation("a much longer question about the figure", 2), \
        _conversation("x", 3)  # fmt: skip
    sampling = Sampling(temperature=1.0, n=3, seed=11)
    alone = _backend(tiny_model, batch_size=1).generate([a], sampling)[0]
    torch.manual_seed(123)  # the global random state plays no part
    batched = _backend(tiny_model, batch_size=4).generate([b, a, c], sampling)[1]
    other_order = _backend(tiny_model, batch_size=2).generate([c, b, a], sampling)[2]
    assert isinstance(alone, list) and len(alone) == 3
    assert alone == batched == other_order
    assert len(set(alone)) > 1  # the n samples are different draws
    assert _backend(tiny_model).generate([a], Sampling(temperature=1.0, n=3, seed=12))[0] != alone


def test_seeded_sampling_draws_from_the_model_distribution(tiny_model):
    model, processor = tiny_model
    conversation = _conversation("What is shown?", 4)
    inputs = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True,
                                           return_dict=True, return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1].float()
    top = torch.topk(logits, 4)
    probs = torch.softmax(top.values / 0.7, -1)
    reference: Counter = Counter()
    for token, p in zip(top.indices.tolist(), probs.tolist()):
        reference[processor.tokenizer.decode([token], skip_special_tokens=True)] += p
    draws = 800
    (samples,) = _backend(tiny_model, batch_size=200, max_new_tokens=1).generate(
        [conversation], Sampling(temperature=0.7, top_k=4, n=draws, seed=0)
    )
    empirical = Counter(samples)
    assert set(empirical) <= set(reference)
    total_variation = 0.5 * sum(abs(empirical[k] / draws - reference[k]) for k in reference)
    assert total_variation < 0.08, (empirical, reference)


def _stock_greedy(model, processor, inputs, max_new_tokens):
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return processor.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)[0]


def test_top_1_sampling_is_greedy_and_greedy_n_repeats(tiny_model):
    model, processor = tiny_model
    conversation = _conversation("Describe it.", 6)
    inputs = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True,
                                           return_dict=True, return_tensors="pt")  # fmt: skip
    greedy = _stock_greedy(model, processor, inputs, 6)
    backend = _backend(tiny_model)
    assert backend.generate([conversation], Sampling(temperature=1.0, top_k=1, n=2, seed=3)) == [[greedy, greedy]]
    torch.manual_seed(0)
    assert backend.generate([conversation], Sampling(temperature=1.0, top_k=1)) == [greedy]  # unseeded path
    assert backend.generate([conversation], Sampling(n=3)) == [[greedy] * 3]
    assert backend.generate_samples([conversation]) == [[greedy]]


def test_continue_final_message_continues_the_prefix(tiny_model):
    model, processor = tiny_model
    question, prefix = _conversation("Describe the figure.", 7), "The figure shows"
    prompt = processor.apply_chat_template(question, add_generation_prompt=True, tokenize=False) + prefix
    image = question[0]["content"][0]["image"]
    reference = _stock_greedy(model, processor, processor(images=[image], text=[prompt], return_tensors="pt"), 6)
    conversation = [*question, {"role": "assistant", "content": [{"type": "text", "text": prefix}]}]
    backend = _backend(tiny_model)
    (continued,) = backend.generate([conversation], Sampling(continue_final_message=True))
    assert continued == reference
    (fresh,) = backend.generate([conversation])  # without the flag the assistant turn is closed
    fresh_reference = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    assert fresh == _stock_greedy(model, processor, processor(images=[image], text=[fresh_reference],
                                                              return_tensors="pt"), 6)  # fmt: skip
    assert fresh != continued
