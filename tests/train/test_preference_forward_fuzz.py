"""Fuzz: on random pairs (0-2 anyres images, random prompt and answer lengths) every fast mode gives the plain
path's per-pair log-probs and token counts."""

import copy
import string

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmreason.testing import build_tiny
from mmreason.train.preference_collators import collator_for
from mmreason.train.preference_forward import pair_logps

from .preference_rows import preference_row

MODEL, PROCESSOR = build_tiny(seed=5)
SIZES = [(32, 32), (90, 30), (30, 70), (64, 48)]
text = st.text(alphabet=string.ascii_letters + string.digits + " .,", min_size=1, max_size=40)
pair = st.builds(preference_row, st.lists(st.sampled_from(SIZES), max_size=2), text, text, text, st.integers(0, 20))


@settings(max_examples=4, deadline=None)
@given(st.lists(pair, min_size=1, max_size=2))
def test_fast_modes_match_plain_on_random_pairs(rows):
    with torch.no_grad():
        plain = pair_logps(MODEL, collator_for("plain", PROCESSOR)(copy.deepcopy(rows)), "plain")
        for mode in ("vision_once", "shared_prompt", "packed"):
            got = pair_logps(MODEL, collator_for(mode, PROCESSOR)(copy.deepcopy(rows)), mode)
            torch.testing.assert_close(got.chosen_logps, plain.chosen_logps, atol=1e-5, rtol=1e-6)
            torch.testing.assert_close(got.rejected_logps, plain.rejected_logps, atol=1e-5, rtol=1e-6)
            assert got.chosen_tokens.tolist() == plain.chosen_tokens.tolist()
            assert got.rejected_tokens.tolist() == plain.rejected_tokens.tolist()
