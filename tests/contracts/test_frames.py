"""Results as tables: to_pandas (one row per scenario, inputs beside outputs), to_xarray
(axes named by the inputs that span them) and the small HTML table of a scalar result."""

from __future__ import annotations

import numpy as np
import pytest

import scaleplan as sp

pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")

LOSS = np.linspace(1.8, 2.5, 5)
DEMAND = np.logspace(9, 15, 4)


def test_a_grid_becomes_one_row_per_scenario():
    g = sp.compute_optimal(LOSS[:, None], DEMAND)
    df = g.to_pandas()
    assert len(df) == 20 and list(df.columns[:3]) == ["loss", "inference_tokens", "params"]
    np.testing.assert_array_equal(df["params"], g.params.ravel())
    np.testing.assert_array_equal(df["loss"], np.repeat(LOSS, 4))
    np.testing.assert_array_equal(df["flop_saving"], np.ravel(g.flop_saving))
    assert df["converged"].dtype == bool


def test_a_grid_becomes_a_dataset_with_its_axes_as_coordinates():
    g = sp.compute_optimal(LOSS[:, None], DEMAND)
    ds = g.to_xarray()
    assert dict(ds.sizes) == {"loss": 5, "inference_tokens": 4}
    np.testing.assert_array_equal(ds["loss"], LOSS)
    np.testing.assert_array_equal(ds["inference_tokens"], DEMAND)
    np.testing.assert_array_equal(ds["params"], g.params)
    # The same point, by value.
    picked = ds["tokens"].sel(loss=LOSS[2], inference_tokens=DEMAND[1]).item()
    assert picked == g.tokens[2, 1]


def test_other_results_and_unnamed_axes():
    c = sp.cost_optimal(2.0, np.logspace(8, 11, 3))
    assert dict(c.to_xarray().sizes) == {"requests": 3}
    assert list(c.to_pandas().columns[:4]) == ["loss", "requests", "input_tokens", "output_tokens"]
    law = sp.ScalingLaw(E=np.array([1.69, 1.7, 1.71]), A=406.4, B=410.7, alpha=0.336, beta=0.283)
    ds = sp.compute_optimal(2.0, 1e12, law=law).to_xarray()
    assert dict(ds.sizes) == {"dim_0": 3}  # no input spans the law axis
    assert len(sp.best_quality(np.array([1e22, 1e23]), 1e12).to_pandas()) == 2
    cost = sp.lifetime_cost(7e9, 2e12, 1e9).to_pandas()
    assert cost["total_dollars"].item() == pytest.approx(
        sp.lifetime_cost(7e9, 2e12, 1e9).total_dollars
    )
    assert sp.chinchilla_optimal(params=7e9).to_pandas()["params"].item() == 7e9


def test_a_scalar_result_shows_as_a_small_table():
    html = sp.compute_optimal(2.0, 1e12)._repr_html_()
    assert html.startswith("<table>") and "flop_saving" in html and "True" in html
    assert "20 scenarios" in sp.compute_optimal(LOSS[:, None], DEMAND)._repr_html_()


def test_without_pandas_the_error_says_what_to_install(monkeypatch):
    from scaleplan._utils import frames as _frames

    def missing(name):
        raise ImportError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(_frames.importlib, "import_module", missing)
    with pytest.raises(ImportError, match=r"this needs pandas: pip install 'scaleplan\[frames\]'"):
        sp.compute_optimal(2.0, 1e12).to_pandas()
    with pytest.raises(ImportError, match="this needs xarray"):
        sp.compute_optimal(2.0, 1e12).to_xarray()


def test_csv_is_the_pandas_table_with_every_digit():
    import io

    g = sp.cost_optimal(LOSS[:, None], requests=DEMAND / 1e3)
    back = pd.read_csv(io.StringIO(g.to_csv()))
    df = g.to_pandas()
    assert list(back.columns) == list(df.columns)
    for name in df.columns:
        np.testing.assert_array_equal(back[name].to_numpy(), df[name].to_numpy())


def _results() -> dict[str, object]:
    """One of each kind of result a planner call returns, scalar scenarios."""
    from scaleplan.optimal.allocation import lifetime_split
    from scaleplan.systems import physical

    plan = physical.physical_plan(7e9, 1e12, requests_per_day=1e6, days=365.0)
    return {
        "compute_optimal": sp.compute_optimal(2.0, 1e12),
        "cost_optimal": sp.cost_optimal(2.1, 1e10),
        "best_quality": sp.best_quality(1e23, 1e12),
        "constrained": sp.compute_optimal(2.1, 1e12, unique_tokens=1e11),
        "physical_plan": plan,
        "serving_plan": plan.serving,
        "implied_demand": sp.implied_demand(8.03e9, 15e12),
        "lifetime_split": lifetime_split(sp.compute_optimal(2.0, 1e12)),
        "step_counts": sp.step_counts(plan.shape),
    }


RESULTS = ("compute_optimal", "cost_optimal", "best_quality", "constrained", "physical_plan",
           "serving_plan", "implied_demand", "lifetime_split", "step_counts")  # fmt: skip


def test_the_list_is_every_result_built():
    assert tuple(_results()) == RESULTS


@pytest.mark.parametrize("name", RESULTS)
def test_every_result_has_a_short_repr_and_a_table(name):
    """A scalar result prints in a few lines at a prompt (a CostOptimum's dataclass repr
    was 1,304 characters: its law and cost model in full), every number in it to four
    digits; it is a one-row frame and a small HTML table."""
    result = _results()[name]
    text = repr(result)
    assert len(text.splitlines()) <= 8 and len(text) <= 700, text
    assert "Accelerator(" not in text and "CostModel(" not in text
    assert text.startswith(type(result).__name__ + "(")
    frame = result.to_pandas()  # type: ignore[attr-defined]
    assert len(frame) == 1 and frame.shape[1] >= 3
    assert result._repr_html_().startswith("<table>")  # type: ignore[attr-defined]


def test_a_record_table_flattens_nested_plans_and_keeps_every_digit():
    from scaleplan.systems import physical

    plan = physical.physical_plan(7e9, 1e12, requests_per_day=1e6, days=365.0)
    row = plan.record()
    assert row["training.days"] == plan.training.days
    assert row["serving.gpus"] == plan.serving.gpus and "shape" not in row
    assert "serving.dollars" in plan.to_pandas().columns
    header, values = plan.to_csv().splitlines()
    assert float(values.split(",")[header.split(",").index("training.days")]) == (
        plan.training.days
    )


def test_a_grid_result_repr_names_its_shape_not_its_values():
    text = repr(sp.compute_optimal(LOSS[:, None], DEMAND))
    assert text.startswith("<LifetimeOptimum: 20 scenarios, shape (5, 4)") and "\n" not in text
