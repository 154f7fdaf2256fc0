"""MPO's loss on fixed log-probs against a hand computation of InternVL's formula (`trainer_dpo.py` on TRL 0.9.6),
term by term, including the running reward shift δ over consecutive micro-batches and across 2 gloo ranks."""

import json
import math
import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

from mmreason.train import mpo_loss
from mmreason.train.mpo_config import MPOConfig
from mmreason.train.mpo_loss import RewardShift, preference_losses, update_shift

BETA = 0.1
# three micro-batches of fixed (policy, reference) log-probs; batch 2 has three pairs, the others two
BATCHES = [
    {"pc": [-12.0, -30.5], "pr": [-15.0, -28.0], "rc": [-13.0, -31.0], "rr": [-14.0, -26.5], "nll": 1.7},
    {
        "pc": [-8.25, -40.0, -3.5],
        "pr": [-20.0, -35.0, -9.0],
        "rc": [-9.0, -44.0, -3.0],
        "rr": [-15.0, -30.0, -4.0],
        "nll": 1.2,
    },
    {"pc": [-5.0, -60.0], "pr": [-25.0, -50.0], "rc": [-7.5, -58.0], "rr": [-20.0, -41.0], "nll": 0.9},
]


def logsigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def internvl_loss(batch: dict, delta: float, weights=(0.8, 0.2), rpo_alpha: float = 1.0) -> dict:
    """InternVL's MPO loss written out: per pair `Σ_type w_type · loss_type + rpo_alpha · nll`, then the mean."""
    terms = {"sigmoid": [], "bco_pair": []}
    for pc, pr, rc, rr in zip(batch["pc"], batch["pr"], batch["rc"], batch["rr"]):
        chosen_reward, rejected_reward = BETA * (pc - rc), BETA * (pr - rr)
        terms["sigmoid"].append(-logsigmoid(chosen_reward - rejected_reward))
        terms["bco_pair"].append(-logsigmoid(chosen_reward - delta) - logsigmoid(-(rejected_reward - delta)))
    per_pair = [
        weights[0] * s + weights[1] * b + rpo_alpha * batch["nll"] for s, b in zip(terms["sigmoid"], terms["bco_pair"])
    ]
    return {
        "loss": sum(per_pair) / len(per_pair),
        "sigmoid": sum(terms["sigmoid"]) / len(per_pair),
        "bco_pair": sum(terms["bco_pair"]) / len(per_pair),
    }


def batch_reward_mean(batch: dict) -> float:
    rewards = [BETA * (p - r) for p, r in zip(batch["pc"], batch["rc"])] + [
        BETA * (p - r) for p, r in zip(batch["pr"], batch["rr"])
    ]
    return sum(rewards) / len(rewards)


def mpo_step(
    batch: dict, shift: RewardShift, gather=None, types=("sigmoid", "bco_pair", "sft"), weights=(0.8, 0.2, 1.0)
):
    t = {key: torch.tensor(value, dtype=torch.float64) for key, value in batch.items()}
    chosen, rejected = t["pc"] - t["rc"], t["pr"] - t["rr"]
    update_shift(shift, BETA * chosen, BETA * rejected, gather)
    return preference_losses(chosen, rejected, t["nll"], list(types), list(weights), BETA, shift=shift.mean)


def test_loss_terms_and_shift_over_three_micro_batches_equal_internvls_formula():
    shift, means = RewardShift(), []
    for batch in BATCHES:
        loss, terms = mpo_step(batch, shift)
        means.append(batch_reward_mean(batch))
        delta = sum(means) / len(means)  # cumulative equal-weight mean, updated before the loss reads it
        expected = internvl_loss(batch, delta)
        assert shift.mean == pytest.approx(delta, abs=1e-12)
        assert terms["sigmoid"].item() == pytest.approx(expected["sigmoid"], abs=1e-12)
        assert terms["bco_pair"].item() == pytest.approx(expected["bco_pair"], abs=1e-12)
        assert terms["sft"].item() == pytest.approx(batch["nll"], abs=1e-12)
        assert loss.item() == pytest.approx(expected["loss"], abs=1e-12)
    assert shift.count == 3 and abs(shift.mean) > 0.1  # the shift is not trivially 0 on these numbers


def test_rpo_and_unshifted_bco_pair():
    batch = BATCHES[1]
    loss, _ = mpo_step(batch, RewardShift(), types=("sigmoid", "sft"), weights=(1.0, 1.0))
    assert loss.item() == pytest.approx(internvl_loss(batch, 0.0, weights=(1.0, 0.0))["loss"], abs=1e-12)
    t = {key: torch.tensor(value, dtype=torch.float64) for key, value in batch.items()}
    _, terms = preference_losses(t["pc"] - t["rc"], t["pr"] - t["rr"], t["nll"], ["bco_pair"], [1.0], BETA)
    assert terms["bco_pair"].item() == pytest.approx(internvl_loss(batch, 0.0)["bco_pair"], abs=1e-12)


def test_reward_shift_state_round_trips_exactly():
    shift = RewardShift()
    for batch in BATCHES:
        mpo_step(batch, shift)
    restored = RewardShift()
    restored.load_state_dict(json.loads(json.dumps(shift.state_dict())))
    assert restored == shift


def test_config_defaults_are_internvls_recipe_and_rpo_preset(tmp_path):
    mpo = MPOConfig(output_dir=str(tmp_path), use_cpu=True)
    assert (mpo.loss_type, mpo.loss_weights, mpo.beta) == (["sigmoid", "bco_pair", "sft"], [0.8, 0.2, 1.0], 0.1)
    assert (mpo.learning_rate, mpo.num_train_epochs, mpo.warmup_steps, mpo.weight_decay) == (5e-6, 1.0, 0.03, 0.05)
    assert mpo.lr_scheduler_type == "cosine" and mpo.reward_shift and mpo.max_length == 8192
    rpo = MPOConfig(output_dir=str(tmp_path), use_cpu=True, stage="rpo", learning_rate=1e-6)
    assert (rpo.loss_type, rpo.loss_weights, rpo.learning_rate) == (["sigmoid", "sft"], [1.0, 1.0], 1e-6)
    own = MPOConfig(output_dir=str(tmp_path), use_cpu=True, loss_type=["sigmoid", "bco_pair"])
    assert own.loss_weights is None  # the preset's three weights are not forced onto two user-chosen terms
    with pytest.raises(ValueError, match="not supported"):
        MPOConfig(output_dir=str(tmp_path), use_cpu=True, loss_type=["aot"])


RANK_SCRIPT = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    import torch
    from accelerate import Accelerator

    # mpo_loss.py needs torch only: loaded by path, so that each rank starts in seconds (no mmreason.train/TRL import)
    spec = importlib.util.spec_from_file_location("mpo_loss", os.environ["MPO_LOSS"])
    mpo_loss = sys.modules["mpo_loss"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mpo_loss)
    batches, beta = json.loads(os.environ["BATCHES"]), float(os.environ["BETA"])
    accelerator = Accelerator(cpu=True)
    rank = accelerator.process_index
    shift, out = mpo_loss.RewardShift(), []
    for step in range(3):
        t = {k: torch.tensor(v, dtype=torch.float64) for k, v in batches[(step + rank) % 3].items()}
        chosen, rejected = t["pc"] - t["rc"], t["pr"] - t["rr"]  # each rank its own micro-batch (2 or 3 pairs)
        mpo_loss.update_shift(shift, beta * chosen, beta * rejected, gather=accelerator.gather)
        loss, terms = mpo_loss.preference_losses(
            chosen, rejected, t["nll"], ["sigmoid", "bco_pair", "sft"], [0.8, 0.2, 1.0], beta, shift=shift.mean
        )
        out.append({"delta": shift.mean, "loss": loss.item(), "bco_pair": terms["bco_pair"].item()})
    with open(os.path.join(os.environ["OUT_DIR"], f"rank{rank}.json"), "w") as handle:
        json.dump(out, handle)
    accelerator.wait_for_everyone()
    torch.distributed.destroy_process_group()  # a clean gloo teardown (no abort at exit)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_shift_is_averaged_across_two_gloo_ranks(tmp_path):
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    port, procs = _free_port(), []
    for rank in range(2):
        env = {
            **os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OUT_DIR": str(tmp_path), "OMP_NUM_THREADS": "1",
            "MPO_LOSS": mpo_loss.__file__, "BATCHES": json.dumps(BATCHES), "BETA": str(BETA),
        }  # fmt: skip
        procs.append(subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
    results = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2)]
    updates = []
    for step in range(3):
        # one number per rank (its batch mean), equal weight, whatever the ranks' batch sizes
        updates.append(sum(batch_reward_mean(BATCHES[(step + rank) % 3]) for rank in range(2)) / 2)
        delta = sum(updates) / len(updates)
        for rank in range(2):
            expected = internvl_loss(BATCHES[(step + rank) % 3], delta)
            assert results[rank][step]["delta"] == pytest.approx(delta, abs=1e-12)
            assert results[rank][step]["bco_pair"] == pytest.approx(expected["bco_pair"], abs=1e-12)
            assert results[rank][step]["loss"] == pytest.approx(expected["loss"], abs=1e-12)
