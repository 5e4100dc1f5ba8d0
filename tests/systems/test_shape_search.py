"""`best_shapes`' limits, ranking and columns on small candidate sets whose parameter
counts and training memory are exact integers set here, so each limit is tested at its
boundary (a limit admits what equals it)."""

import numpy as np
import pytest

from scaleplan.systems.shape_search import best_shapes
from scaleplan.systems.steptime import FIELDS, TransformerShape, loss_in_budget
from scaleplan.testing import reference as ref

BASE = TransformerShape(8, 1, 2, vocab=5, d_ff=12, seq_len=3, batch_size=4)
BASE_PARAMS, _, _, BASE_KEPT, _ = ref.step_counts(*(getattr(BASE, f) for f in FIELDS))
TARGET = float(2**20)
# Parameter counts as fractions of TARGET that are exact in float64, as are their ratios
# to TARGET and those ratios minus 1: the tolerance 0.5 lands exactly on 0.5 and 1.5.
FRACTIONS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
PARAMS = np.array([f * TARGET for f in FRACTIONS])


def candidates():
    # One shape, its parameters topped up with extra_params (stored and updated, no FLOPs).
    cols = {f: float(getattr(BASE, f)) for f in FIELDS}
    cols["extra_params"] = PARAMS - BASE_PARAMS
    return cols


def memory(params):
    # fp32 weights, gradients and Adam's two moments (16 bytes per parameter) plus the
    # bf16 activations kept for backward (2 bytes each, the default time model's).
    return 16.0 * params + 2.0 * BASE_KEPT


def chosen_params(best):
    return sorted(best.result.params.tolist())


def test_the_base_shape_has_the_parameters_the_fractions_assume():
    assert BASE_PARAMS < 0.5 * TARGET
    got = loss_in_budget(candidates(), 3600.0)
    assert got.params.tolist() == PARAMS.tolist()
    assert got.memory_bytes.tolist() == memory(PARAMS).tolist()


def test_max_params_admits_counts_up_to_and_including_the_limit():
    best = best_shapes(3600.0, candidates=candidates(), max_params=TARGET)
    assert (best.considered, best.feasible) == (6, 3)
    assert chosen_params(best) == [0.5 * TARGET, 0.75 * TARGET, TARGET]


def test_params_admits_the_relative_band_including_its_edges():
    best = best_shapes(3600.0, candidates=candidates(), params=TARGET, params_tolerance=0.5)
    # |p / TARGET - 1| <= 0.5: every fraction but 2.0, the edges 0.5 and 1.5 included.
    assert (best.considered, best.feasible) == (6, 5)
    assert chosen_params(best) == [f * TARGET for f in FRACTIONS[:-1]]
    narrow = best_shapes(3600.0, candidates=candidates(), params=TARGET, params_tolerance=0.1)
    assert narrow.feasible == 1 and chosen_params(narrow) == [TARGET]


def test_max_memory_admits_memory_up_to_and_including_the_limit():
    limit = memory(TARGET)
    best = best_shapes(3600.0, candidates=candidates(), max_memory_bytes=limit)
    assert (best.considered, best.feasible) == (6, 3)
    assert chosen_params(best) == [0.5 * TARGET, 0.75 * TARGET, TARGET]
    assert np.all(best.result.memory_bytes <= limit)


def test_limits_combine_and_no_limit_admits_everything():
    free = best_shapes(3600.0, candidates=candidates())
    assert (free.considered, free.feasible) == (6, 6)
    both = best_shapes(
        3600.0,
        candidates=candidates(),
        params=TARGET,
        params_tolerance=0.5,
        max_memory_bytes=memory(0.75 * TARGET),
    )
    assert chosen_params(both) == [0.5 * TARGET, 0.75 * TARGET]


def test_ranking_is_by_loss_and_carries_each_rows_fields():
    cand = candidates()
    each = loss_in_budget(cand, 3600.0)
    best = best_shapes(3600.0, candidates=cand, top=4)
    order = np.argsort(each.loss, kind="stable")[:4]
    np.testing.assert_array_equal(best.result.loss, each.loss[order])
    for name in ("params", "tokens", "steps", "step_seconds", "memory_bytes"):
        np.testing.assert_array_equal(getattr(best.result, name), getattr(each, name)[order])
    # The topped-up column follows its row; the fixed fields are repeated for each pick.
    np.testing.assert_array_equal(best.shapes["extra_params"], cand["extra_params"][order])
    assert best.shapes["d_model"].tolist() == [8.0] * 4
    assert set(best.shapes) == set(FIELDS)


@pytest.mark.parametrize("top", [1, 2, 3])
def test_two_candidates_give_at_most_two_rows_in_loss_order(top):
    cand = {"d_model": np.array([64.0, 128.0]), "n_layers": np.array([4.0, 1.0]), "n_heads": 4.0}
    each = loss_in_budget(cand, 600.0)
    order = np.argsort(each.loss)[:top]
    best = best_shapes(600.0, candidates=cand, top=top)
    n = min(top, 2)
    for name, want in (("d_model", cand["d_model"][order]), ("n_layers", cand["n_layers"][order])):
        assert best.shapes[name].tolist() == want.tolist(), name
    assert best.shapes["n_heads"].tolist() == [4.0] * n
    assert len(best.result.loss) == n


def test_one_candidate_and_none_feasible():
    one = {f: float(getattr(BASE, f)) for f in FIELDS}
    best = best_shapes(60.0, candidates=one)
    assert (best.considered, best.feasible) == (1, 1)
    assert {k: v.tolist() for k, v in best.shapes.items()} == {k: [v] for k, v in one.items()}
    none = best_shapes(60.0, candidates=candidates(), max_params=0.25 * TARGET)
    assert none.feasible == 0 and len(none.result.loss) == 0
    assert all(len(v) == 0 for v in none.shapes.values())


def test_default_candidates_are_the_default_grid():
    # 10 widths x 10 depths x 5 head counts x 4 MLP ratios; every width is a multiple of
    # 64, so no head count is dropped.
    best = best_shapes(3600.0, top=2)
    assert (best.considered, best.feasible) == (2000, 2000)
    assert len(best.result.loss) == 2 and best.result.loss[0] <= best.result.loss[1]


def test_candidates_that_are_not_a_mapping_are_refused_by_name():
    with pytest.raises(ValueError, match="candidates must be a mapping of shape fields"):
        best_shapes(60.0, candidates=[BASE])
