"""`Sampling`'s fields for synthesis (issue #13 item 1): `n`, `top_k`, `seed`, `continue_final_message`, added
compatibly (fingerprints recorded before them unchanged), and the per-request seed derivation."""

import pytest

from mmreason.generation import Sampling, request_key, request_seed
from mmreason.testing import make_image

#: `Sampling().settings()` as recorded by runs made before the synthesis fields existed (commit 0338b1c)
FIRST_RELEASE_SETTINGS = {
    "max_new_tokens": None, "temperature": 0.0, "top_p": None, "do_sample": None, "stop": [], "num_beams": 1,
}  # fmt: skip


def test_defaults_keep_the_recorded_fingerprint():
    assert Sampling().settings() == FIRST_RELEASE_SETTINGS
    assert Sampling(stop=("x",), max_new_tokens=4).settings() == {**FIRST_RELEASE_SETTINGS, "stop": ["x"],
                                                                  "max_new_tokens": 4}  # fmt: skip


def test_set_fields_are_recorded():
    settings = Sampling(temperature=1.0, n=4, top_k=50, seed=7, continue_final_message=True).settings()
    assert (settings["n"], settings["top_k"], settings["seed"], settings["continue_final_message"]) == (4, 50, 7, True)


def test_invalid_values_are_refused():
    with pytest.raises(ValueError, match="n must be"):
        Sampling(n=0)
    with pytest.raises(ValueError, match="top_k"):
        Sampling(top_k=0)


def test_gen_kwargs_carry_top_k_and_seed():
    sampling = Sampling.from_gen_kwargs({"temperature": 1.0, "top_k": 50, "seed": 3, "until": "\n\n"})
    assert (sampling.top_k, sampling.seed, sampling.stop, sampling.sampled) == (50, 3, ("\n\n",), True)
    assert Sampling.from_gen_kwargs({}).top_k is None and Sampling.from_gen_kwargs({}).seed is None


def _request(text, image):
    return [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": text}]}]


def test_request_seed_depends_on_content_seed_and_sample_only():
    image = make_image(12, 10, seed=1)
    same_pixels = make_image(12, 10, seed=1)
    a = request_seed(0, _request("q", image))
    assert a == request_seed(0, _request("q", same_pixels))  # content, not object identity
    others = {
        request_seed(0, _request("q", image), 1),
        request_seed(1, _request("q", image)),
        request_seed(0, _request("r", image)),
        request_seed(0, _request("q", make_image(12, 10, seed=2))),
    }
    assert a not in others and len(others) == 4
    assert 0 <= a < 2**63
    assert request_key(_request("q", b"\x89PNG1")) != request_key(_request("q", b"\x89PNG2"))
