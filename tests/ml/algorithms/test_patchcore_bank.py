"""PatchCore's memory banks: the cached and the growing bank find what the plain one finds, and
PatchCore takes a bank and an extractor at construction."""

import pytest
import torch

from inference.ml.algorithms.patchcore import PatchCore
from inference.ml.algorithms.patchcore.bank import CachedBank, GrowingBank, MemoryBank


@pytest.fixture
def entries():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(300, 8, generator=generator)
    queries = torch.randn(50, 8, generator=generator)
    return features, torch.arange(300), queries


def _filled(bank: MemoryBank, features, sources, parts=(100, 200, 300)):
    start = 0
    for end in parts:
        bank.extend(features[start:end], sources[start:end])
        start = end
    return bank


def test_the_nearest_entry_is_the_closest_by_brute_force(entries):
    features, sources, queries = entries
    distances, indices = _filled(MemoryBank(), features, sources).nearest(queries)

    expected = torch.cdist(queries, features).min(dim=1)
    assert torch.allclose(distances, expected.values, atol=1e-4)
    assert indices.tolist() == expected.indices.tolist()


@pytest.mark.parametrize("bank_type", [CachedBank, GrowingBank])
def test_cached_and_growing_banks_find_what_the_plain_one_finds(entries, bank_type):
    features, sources, queries = entries
    plain, other = _filled(MemoryBank(), features, sources), _filled(bank_type(), features, sources)
    skip = sources % 7 == 0

    for _ in range(2):  # the second time from memory
        for leave_out in (None, skip):
            expected, got = plain.nearest(queries, leave_out), other.nearest(queries, leave_out)
            assert torch.allclose(got[0], expected[0], atol=1e-5)
            assert got[1].tolist() == expected[1].tolist()


def test_a_cached_bank_forgets_its_searches_when_it_changes(entries):
    features, sources, queries = entries
    bank = CachedBank()
    bank.reset(features[:100], sources[:100])
    before = bank.nearest(queries)[0]
    bank.reset(features, sources)

    assert torch.allclose(bank.nearest(queries)[0], MemoryBank.nearest(bank, queries)[0])
    assert (bank.nearest(queries)[0] <= before).all()


def test_a_growing_bank_goes_back_to_its_first_part(entries):
    features, sources, queries = entries
    bank = _filled(GrowingBank(), features, sources)
    bank.truncate(1)

    first = MemoryBank()
    first.reset(features[:100], sources[:100])
    assert len(bank) == 100
    assert bank.nearest(queries)[1].tolist() == first.nearest(queries)[1].tolist()


def test_patchcore_searches_the_bank_and_uses_the_extractor_it_is_given(entries):
    features, sources, queries = entries
    bank = CachedBank()
    extractor = object()
    model = PatchCore(device="cpu", bank=bank, extractor=extractor)
    bank.reset(features, sources)

    assert model.extractor is extractor
    assert model.memory_bank is features and model.bank_sources is sources
    assert model.state_tensors()["memory_bank"] is features
