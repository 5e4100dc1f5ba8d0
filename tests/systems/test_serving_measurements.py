"""The serving roofline against the published measurements it ships with."""

from dataclasses import replace

import numpy as np
import pytest

from scaleplan.systems import serving
from scaleplan.systems import serving_fit as fit

ROWS = fit.measurements()


def test_the_rows_are_what_the_sources_say():
    assert len(ROWS) == 57
    assert {r.model for r in ROWS} == {"gpt-j-6b", "llama-2-7b", "llama-2-70b", "falcon-180b"}
    assert {r.model for r in ROWS} <= set(fit.MODELS)
    assert sum(r.kind == "ttft" for r in ROWS) == 20


def test_published_parameter_counts():
    from scaleplan.arch.counts import step_counts

    published = {"llama-2-7b": 6.74e9, "llama-2-70b": 68.98e9, "gpt-j-6b": 6.05e9}
    for model, params in published.items():
        assert step_counts(fit.MODELS[model]).params == pytest.approx(params, rel=0.005)
    # Falcon-180B's 179.5B (its model card rounds to 180B).
    assert step_counts(fit.MODELS["falcon-180b"]).params == pytest.approx(180e9, rel=0.005)


def test_the_ideal_roofline_is_an_upper_bound_on_every_measurement():
    ratio = np.expm1(fit.log_errors(ROWS, serving.IDEAL))
    assert np.all(ratio > 0), ratio.min()


def test_the_default_efficiencies_are_the_fit():
    e = fit.fit_efficiency(ROWS)
    d = serving.Efficiency()
    for name in ("compute", "memory", "overhead_seconds", "collective_seconds"):
        assert float(f"{getattr(e, name):.2g}") == getattr(d, name), name


def test_held_out_error():
    # Each model's rows predicted by efficiencies fitted to the other three models.
    errors = np.concatenate(list(fit.held_out_errors(ROWS).values()))
    assert len(errors) == len(ROWS)
    # The README's figures: median 11%, 86% of rows within 25%, worst 89% (Falcon-180B).
    assert np.median(np.abs(errors)) < 0.12
    assert np.mean(np.abs(errors) < 0.25) > 0.85
    assert np.max(np.abs(errors)) < 0.9


def test_the_collective_latency_is_what_fits_the_multi_gpu_rows():
    # Without it (latency 0, the rest as fitted) the tensor-parallel rows are far off.
    multi = [r for r in ROWS if r.tensor_parallel > 1]
    fitted = fit.fit_efficiency(ROWS)
    without = replace(fitted, collective_seconds=0.0)
    worst_with = np.max(np.abs(np.expm1(fit.log_errors(multi, fitted))))
    worst_without = np.max(np.abs(np.expm1(fit.log_errors(multi, without))))
    assert worst_with < 0.85 < 1.5 < worst_without
