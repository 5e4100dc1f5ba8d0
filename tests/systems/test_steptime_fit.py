"""`fit_step_time` and the held-out scores against least squares solved independently:
closed forms, `numpy.linalg.lstsq` and every possible fold split, on data chosen so that
the non-negativity constraint is slack and NNLS is plain least squares."""

import itertools
import warnings

import numpy as np
import pytest

from scaleplan.errors import ScaleplanError
from scaleplan.systems.steptime import TransformerShape, step_counts
from scaleplan.systems.steptime_fit import fit_step_time, heldout_r2, heldout_relative_errors

SHAPES = [
    TransformerShape(d, L, 8, vocab=1024, seq_len=128, batch_size=2)
    for d in (128, 256, 512)
    for L in (1, 2, 4)
]
# Multiplicative jitter, written out so the data are the same everywhere.
JITTER = np.array([1.03, 0.97, 1.02, 0.99, 1.04, 0.96, 1.01, 0.98, 1.0])


def _columns(shapes):
    c = step_counts(shapes)
    return np.ravel(c.flops), np.ravel(c.memcpy_bytes(2.0))


def _seconds(shapes, c_0=1e-3):
    f, m = _columns(shapes)
    return 2e-11 * f + 3e-10 * m + c_0


def _lstsq(x, y, weights):
    """Weighted least squares `min sum (w (x c - y))^2`, solved without NNLS."""
    coef, *_ = np.linalg.lstsq(x * weights[:, None], y * weights, rcond=None)
    return coef


def _r2(y, pred):
    return 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


@pytest.mark.parametrize("unit", [1.0, 1e3])  # seconds below 1, and all above 1
@pytest.mark.parametrize("relative", [True, False])
def test_fit_is_the_least_squares_solution_and_its_r2(relative, unit):
    f, m = _columns(SHAPES)
    # A constant large enough that memory traffic alone still fits a positive one.
    y = _seconds(SHAPES, c_0=0.05) * JITTER * unit
    one = np.ones_like(y)
    weights = 1.0 / y if relative else one
    designs = {
        "flops": np.column_stack([f, one]),
        "memory": np.column_stack([m, one]),
        "both": np.column_stack([f, m, one]),
    }
    coef = {k: _lstsq(x, y, weights) for k, x in designs.items()}
    assert all(np.all(c > 0) for c in coef.values())  # NNLS's constraint is slack
    r2 = {k: _r2(y, x @ coef[k]) for k, x in designs.items()}
    if not relative:
        # Ordinary least squares with a constant: R² is the squared correlation (to 6e-16).
        assert r2["flops"] == pytest.approx(np.corrcoef(f, y)[0, 1] ** 2, rel=1e-12)
        assert r2["memory"] == pytest.approx(np.corrcoef(m, y)[0, 1] ** 2, rel=1e-12)
    fit = fit_step_time(SHAPES, y, relative=relative)
    # NNLS and lstsq agree to 5e-15 relative on the coefficients and 4e-14 on the errors;
    # R² is ~0.999, so its unexplained share 1 - R² is compared (agreeing to 2e-13).
    assert (fit.model.c_flop, fit.model.c_mem, fit.model.c_0) == pytest.approx(
        tuple(coef["both"]), rel=1e-11
    )
    assert 1.0 - fit.r2_flops == pytest.approx(1.0 - r2["flops"], rel=1e-9)
    assert 1.0 - fit.r2_memory == pytest.approx(1.0 - r2["memory"], rel=1e-9)
    assert 1.0 - fit.r2_both == pytest.approx(1.0 - r2["both"], rel=1e-9)
    assert fit.r2_flops < fit.r2_both < 1.0 and fit.r2_memory < fit.r2_both
    err = np.abs(designs["both"] @ coef["both"] / y - 1.0)
    assert fit.median_relative_error == pytest.approx(np.median(err), rel=1e-11)
    assert fit.worst_relative_error == pytest.approx(err.max(), rel=1e-11)
    assert fit.n_points == 9
    assert fit.model.bytes_per_element == 2.0
    kind = "relative" if relative else "absolute"
    assert fit.model.source == f"fitted to 9 measured steps ({kind})"


def test_more_than_256_steps():
    # Lengths above 256 are distinct int objects in CPython: the checks compare values.
    shapes = [
        TransformerShape(64 * k, L, 8, vocab=512, seq_len=64)
        for k in range(1, 21)
        for L in range(1, 16)
    ]
    assert len(shapes) == 300
    y = _seconds(shapes)
    fit = fit_step_time(shapes, y)
    assert fit.n_points == 300 and fit.r2_both == pytest.approx(1.0, abs=1e-9)
    assert heldout_r2(shapes, y)["both"] == pytest.approx(1.0, abs=1e-9)
    assert heldout_relative_errors(shapes, y)["both"][1] < 1e-6


def _raises_only(match, fn, *args, **kwargs):
    """`fn` refuses with a ScaleplanError and warns of nothing on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ScaleplanError, match=match) as info:
            fn(*args, **kwargs)
    return info.value


def test_fit_refuses_times_that_do_not_match_the_shapes():
    four = SHAPES[:4]
    e = _raises_only("measured_seconds has 5 values for 4 shapes", fit_step_time, four, [1.0] * 5)
    assert e.argument == "measured_seconds"
    _raises_only("measured_seconds has 3 values for 4 shapes", fit_step_time, four, [1.0] * 3)


@pytest.mark.parametrize("bad", [0.0, -0.5, np.inf, -np.inf, np.nan])
def test_fit_refuses_times_not_finite_and_positive(bad):
    e = _raises_only("at least 4 finite times > 0", fit_step_time, SHAPES[:4], [0.1, 0.2, 0.3, bad])
    assert e.argument == "measured_seconds"


def test_fit_needs_four_times_and_four_suffice():
    _raises_only("at least 4 finite times > 0", fit_step_time, SHAPES[:3], [0.1, 0.2, 0.3])
    assert fit_step_time(SHAPES[:4], _seconds(SHAPES[:4])).n_points == 4


@pytest.mark.parametrize("heldout", [heldout_r2, heldout_relative_errors])
def test_heldout_needs_two_shapes_a_fold(heldout):
    shapes = SHAPES + [TransformerShape(1024, L, 8, vocab=1024, seq_len=128) for L in (1, 2, 4)]
    y = _seconds(shapes) * np.resize(JITTER, 12)
    # 5 folds need 10 shapes: 9 are refused, 10 are enough.
    e = _raises_only("5 folds need at least 10 shapes .two a fold.; got 9", heldout,
                     shapes[:9], y[:9])  # fmt: skip
    assert e.argument == "shapes"
    assert set(heldout(shapes[:10], y[:10])) == {"flops", "memory", "both"}
    _raises_only("at least 8 shapes", heldout, shapes[:7], y[:7], folds=4)
    # One time too many or too few, with enough of both for the folds.
    e = _raises_only("measured_seconds has 12 values for 11 shapes", heldout, shapes[:11], y)
    assert e.argument == "measured_seconds"
    _raises_only("measured_seconds has 11 values for 12 shapes", heldout, shapes, y[:11])


def test_heldout_r2_is_one_of_the_fold_splits_scored_by_hand():
    # Four shapes, two folds: each fold is fitted on the other two points, and a line with
    # a constant through two points is the line joining them. Whatever the seed, the folds
    # are one of the three ways to pair four points; each pairing's R² is a closed form.
    shapes = [TransformerShape(d, 2, 8, vocab=1024, seq_len=128) for d in (128, 256, 512, 1024)]
    f, m = _columns(shapes)
    y = np.array([1.0, 1.4, 1.9, 2.5])
    for x in (f, m):
        # Rising times that grow slower than x: every chord has slope > 0 and intercept > 0,
        # so NNLS's constraint is slack and its fit is the chord.
        assert np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0) and np.all(np.diff(y / x) < 0)

    def chords(test):
        """Each model's predictions everywhere from the line through the other two points."""
        i, j = (k for k in range(4) if k not in test)
        return [y[i] + (y[j] - y[i]) / (x[j] - x[i]) * (x - x[i]) for x in (f, m)]

    splits = {}
    for first in itertools.combinations(range(4), 2):
        second = tuple(i for i in range(4) if i not in first)
        in_first = np.isin(np.arange(4), first)
        pred_f, pred_m = (
            np.where(in_first, a, b) for a, b in zip(chords(first), chords(second), strict=True)
        )
        splits[frozenset((first, second))] = (_r2(y, pred_f), _r2(y, pred_m))
    assert len(splits) == 3
    for seed in range(8):
        r2 = heldout_r2(shapes, y, folds=2, seed=seed)
        # NNLS on two points reproduces the chord to 1e-15; the pairings differ by > 0.6.
        matches = [
            s
            for s in splits.values()
            if r2["flops"] == pytest.approx(s[0], rel=1e-9, abs=1e-9)
            and r2["memory"] == pytest.approx(s[1], rel=1e-9, abs=1e-9)
        ]
        assert len(matches) == 1, (r2, splits)
