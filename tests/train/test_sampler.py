import torch

from mmreason.train.sampler import ModalityLengthGroupedSampler, modality_grouped_indices


def test_batches_are_single_modality_and_cover_everything():
    generator = torch.Generator().manual_seed(0)
    lengths = [((i * 37) % 500 + 10) * (1 if i % 3 else -1) for i in range(203)]
    order = modality_grouped_indices(lengths, 8, generator)
    assert sorted(order) == list(range(203))
    full_batches = [order[i : i + 8] for i in range(0, len(order) - 8 - len(order) % 8, 8)]  # the tail is mixed
    assert all(len({lengths[i] > 0 for i in batch}) == 1 for batch in full_batches)
    for batch in full_batches:  # sorted by length inside a megabatch
        assert [abs(lengths[i]) for i in batch] == sorted((abs(lengths[i]) for i in batch), reverse=True)


def test_order_depends_only_on_seed_and_epoch():
    lengths = [n if n % 2 else -n for n in range(1, 60)]
    a, b = ModalityLengthGroupedSampler(lengths, 4, 2, seed=3), ModalityLengthGroupedSampler(lengths, 4, 2, seed=3)
    assert list(a) == list(b)
    b.set_epoch(1)
    assert list(a) != list(b) and sorted(b) == sorted(a)
