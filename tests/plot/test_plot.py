"""`scaleplan.plot`: every function returns a Figure, draws on the caller's Axes, labels
its axes with units and "(log scale)" where log, keeps text at 9 pt or more and never
sends the reader elsewhere; `reproduce --format` writes the file type it names.

Small grids keep these fast: the figures' content is tested where it is computed
(ratio grids, optima); here, what the figures say about it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import scaleplan as sp  # noqa: E402
from scaleplan import plot  # noqa: E402
from scaleplan.errors import ScaleplanError  # noqa: E402
from scaleplan.fitting import isoflop_fit  # noqa: E402
from scaleplan.fitting.datasets import chinchilla_runs  # noqa: E402
from scaleplan.optimal.ratio_grids import flop_ratio_grid  # noqa: E402
from scaleplan.plot import surfaces  # noqa: E402

LOSSES = np.linspace(1.85, 2.6, 12)
# One worker runs this module: the figures below are drawn once, not once per worker.
pytestmark = pytest.mark.xdist_group("plots")


@pytest.fixture(scope="module")
def small_isoflop():
    return isoflop_fit(chinchilla_runs(), n_resamples=10, seed=0)


def _small(small_isoflop):
    """(name, panels, call drawing on `axes`) for every public plot, on small grids."""
    return {
        "ratio_surface": (1, lambda ax: plot.ratio_surface(
            flop_ratio_grid(LOSSES, np.logspace(9, 16, 12)), "tokens", ax=ax)),
        "flop_ratio_surfaces": (3, lambda axes: plot.flop_ratio_surfaces(
            LOSSES, np.logspace(9, 16, 12), axes=axes)),
        "cost_ratio_surfaces": (3, lambda axes: plot.cost_ratio_surfaces(
            LOSSES, np.logspace(6, 13, 12), axes=axes)),
        "training_share": (2, lambda axes: plot.training_share(
            np.logspace(8, 17, 12), np.logspace(5, 14, 12), axes=axes)),
        "optimum_vs_demand": (2, lambda axes: plot.optimum_vs_demand(
            np.logspace(7, 12, 12), axes=axes)),
        "finite_data": (3, lambda axes: plot.finite_data(np.logspace(8, 12, 12), axes=axes)),
        "optimal_experts": (2, lambda axes: plot.optimal_experts(
            np.logspace(9, 15, 8), axes=axes)),
        "step_time_fit": (1, lambda ax: plot.step_time_fit(ax=ax)),
        "isoflop_profiles": (2, lambda axes: plot.isoflop_profiles(small_isoflop, axes=axes)),
    }  # fmt: skip


@pytest.fixture(scope="module")
def drawn(small_isoflop):
    """Each plot drawn once on a figure of its own: name -> Figure, laid out."""
    figures = {name: draw(None) for name, (_, draw) in _small(small_isoflop).items()}
    for fig in figures.values():
        fig.draw_without_rendering()  # ticks and their labels exist once drawn
    return figures


def test_every_public_plot_is_covered(small_isoflop):
    assert set(_small(small_isoflop)) == set(plot.__all__)


def test_each_returns_a_figure_of_its_own(drawn):
    for name, fig in drawn.items():
        assert isinstance(fig, Figure), name
        assert fig.axes, name


@pytest.mark.parametrize("name", sorted(plot.__all__))
def test_drawing_on_given_axes_draws_there(name, small_isoflop):
    count, draw = _small(small_isoflop)[name]
    fig = Figure()
    axes = fig.subplots(1, count, squeeze=False)[0]
    got = draw(axes[0] if count == 1 else list(axes))
    assert got is axes[0].figure
    for ax in axes:
        assert ax.lines or ax.collections, (name, ax)
    # The caller's figure is theirs to title.
    assert not fig.get_suptitle()


def test_panels_can_live_in_a_subfigure():
    fig = Figure(figsize=(16, 9), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    got = plot.flop_ratio_surfaces(LOSSES, np.logspace(9, 16, 8), axes=top.subplots(1, 3))
    plot.training_share(np.logspace(8, 17, 8), np.logspace(5, 14, 8), axes=bottom.subplots(1, 2))
    assert got is top
    assert len(fig.axes) == 3 + 3 + 2  # three surfaces with their bars, two shares


def test_a_wrong_number_of_axes_is_refused():
    fig = Figure()
    one, two = fig.subplots(1, 2)
    with pytest.raises(ScaleplanError, match="axes must be a sequence of 3") as e:
        plot.flop_ratio_surfaces(LOSSES, np.logspace(9, 12, 5), axes=[one, two])
    assert e.value.argument == "axes"
    with pytest.raises(ScaleplanError, match="ax must be a matplotlib Axes"):
        plot.step_time_fit(ax=[one, two])


def _log_axes(fig):
    for ax in fig.axes:
        for axis, scale, label in (("x", ax.get_xscale(), ax.get_xlabel()),
                                   ("y", ax.get_yscale(), ax.get_ylabel())):  # fmt: skip
            yield ax, axis, scale, label


def test_every_axis_is_labelled_and_log_axes_say_so(drawn):
    for name, fig in drawn.items():
        for ax, axis, scale, label in _log_axes(fig):
            if not ax.get_visible() or (not label and _is_colorbar(ax, axis)):
                continue
            assert label, (name, axis)
            assert (scale == "log") == label.endswith("(log scale)"), (name, axis, label)


def _is_colorbar(ax, axis):
    # A colour bar's long axis carries its label; the short one has none.
    return ax.get_label() == "<colorbar>"


def test_losses_are_in_nats_and_demands_name_their_unit(drawn):
    labels = [t for fig in drawn.values() for _, _, _, t in _log_axes(fig) if t]
    losses = [t for t in labels if "loss" in t]
    assert losses and all("(nats/token)" in t for t in losses)
    for t in labels:
        if t.startswith("lifetime inference demand"):
            assert "tokens" in t
        if t.startswith("lifetime requests"):
            assert "70 in + 215 out tokens" in t


def _texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_text_is_9_points_or_more_and_never_points_to_the_readme(drawn):
    for name, fig in drawn.items():
        texts = _texts(fig)
        assert len(texts) > 5, name
        small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 9]
        assert not small, (name, small)
        assert not [t.get_text() for t in texts if "readme" in t.get_text().lower()], name


def test_dollar_figures_state_one_price_and_say_why(drawn):
    """The $1.00/h that reproduces Table 3 everywhere by default, said beside the stated
    $1.10/h wherever it is used (a reader saw $1.10 in one panel, $1.00 in others)."""
    for name in ("cost_ratio_surfaces", "optimum_vs_demand", "finite_data", "training_share"):
        text = " ".join(t.get_text() for t in _texts(drawn[name])).replace("\\$", "$")
        assert "$1.00/h reproduces Table 3" in text, name
        assert text.count("$1.10/h") == 1, name
    stated = plot.training_share(np.logspace(8, 12, 4), np.logspace(6, 9, 4), sizes=[7e9],
                                 costs=sp.CostModel())  # fmt: skip
    text = " ".join(t.get_text() for t in _texts(stated)).replace("\\$", "$")
    assert "$1.10/h" in text and "$1.00/h" not in text


def test_the_steps_of_the_optimum_are_explained_where_they_are(drawn):
    """The roofline optimum steps where a replica's GPU count doubles: the figure marks
    those sizes (between the curve's knots where the group changes) and says why."""
    from scaleplan.optimal.physical_optimum import ServingCurve
    from scaleplan.systems.deployment import Deployment

    fig = drawn["optimum_vs_demand"]
    curve = ServingCurve.roofline(
        Deployment.from_costs(sp.CostModel.sardana2024_table3(), peak_to_average=1.0)
    )
    changes = np.flatnonzero(np.diff(curve.tensor_parallel))
    left = fig.axes[0]
    marked = [line.get_ydata()[0] for line in left.lines if line.get_linestyle() == ":"]
    low, high = left.get_ylim()
    inside = [i for i in changes if low < curve.params[i] and curve.params[i + 1] < high]
    assert len(marked) == len(inside) >= 1
    for y, i in zip(sorted(marked), inside, strict=True):
        assert curve.params[i] < y < curve.params[i + 1]
    assert "twice the GPUs" in fig.get_supxlabel()


def test_colour_bars_keep_their_end_labels_apart():
    """Ticks at both ends of the range; an inner tick within a tenth of the bar's length of
    an end is dropped (1e4 beside the top 1.77e4 crowded Figure 6)."""
    fig = plot.ratio_surface(flop_ratio_grid(LOSSES, np.logspace(9, 16, 12)), "tokens")
    bar = fig.axes[1]
    ticks = np.log10(bar.get_yticks())
    assert ticks[0] == pytest.approx(np.log10(fig.axes[0].collections[0].norm.vmin))
    gaps = np.diff(ticks) / (ticks[-1] - ticks[0])
    assert gaps.min() >= 0.1


def test_no_contour_label_is_cut_by_the_panel_edge(drawn):
    from matplotlib.text import Text as _Text

    for name in ("flop_ratio_surfaces", "cost_ratio_surfaces"):
        fig = drawn[name]
        for ax in fig.axes[:3]:
            box = ax.get_window_extent()
            labels = [t for t in ax.texts if isinstance(t, _Text) and "quality" not in t.get_text()]
            for t in labels:
                e = t.get_window_extent()
                assert box.x0 <= e.x0 and e.x1 <= box.x1 and box.y0 <= e.y0 and e.y1 <= box.y1


def test_figure_helpers_give_round_levels_and_short_labels():
    assert surfaces._levels(0.111, 1.0) == [0.2, 0.5]
    assert surfaces._levels(1.0, 1.77e4) == [10.0, 100.0, 1000.0, 10000.0]
    assert all(1.0 < v < 1e9 for v in surfaces._levels(1.0, 1e9))
    assert len(surfaces._levels(1.0, 1e9)) <= 6
    assert surfaces._levels(0.5, 0.6) == []
    assert [surfaces._short(v) for v in (0.111, 17.7, 1000.0, 1.77e4, 1e4)] == [
        "0.111", "17.7", "1000", "1.77e4", "1e4"]  # fmt: skip


def test_importing_scaleplan_or_plot_loads_no_matplotlib():
    code = (
        "import sys, scaleplan; p = scaleplan.plot; import scaleplan.plot; "
        "print(p is scaleplan.plot, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert out.split() == ["True", "False"]


def test_without_matplotlib_a_plot_says_how_to_install_it(tmp_path):
    fake = tmp_path / "matplotlib"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "raise ImportError(\"No module named 'matplotlib'\", name='matplotlib')\n"
    )
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import scaleplan.plot as p\n"
        "try:\n    p.step_time_fit()\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert "pip install 'scaleplan[plot]'" in out


MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF"}


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_reproduce_writes_the_format_it_is_given(fmt, tmp_path, monkeypatch, capsys):
    """Through the command line in-process; the tables (tested with the CLI) are skipped,
    and two figures stand for all: every figure is saved by the same `save`."""
    from scaleplan.cli import main
    from scaleplan.paper import figures
    from scaleplan.paper import reproduce as rp

    monkeypatch.setattr(rp, "tables", lambda out: [])
    monkeypatch.setattr(rp, "FIGURES", (figures.training_share, figures.step_time_fit))
    assert main(["reproduce", "--out", str(tmp_path), "--format", fmt, "--json"]) == 0
    files = [p for p in json.loads(capsys.readouterr().out)["files"] if not p.endswith(".md")]
    assert sorted(p.rsplit("/", 1)[1] for p in files) == [
        f"steptime_fit.{fmt}", f"training_share.{fmt}"]  # fmt: skip
    for path in files:
        head = open(path, "rb").read(300)
        if fmt == "svg":
            assert head.startswith(b"<?xml") and b"<svg" in head
        else:
            assert head.startswith(MAGIC[fmt])


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_save_writes_each_format_png_at_200_dpi(fmt, tmp_path):
    from scaleplan.paper.figures import save

    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([1, 2])
    path = save(fig, tmp_path, "f", fmt)
    assert path == tmp_path / f"f.{fmt}"
    data = path.read_bytes()
    if fmt == "png":
        width = int.from_bytes(data[16:20], "big")  # the IHDR chunk's width in pixels
        assert data[:4] == MAGIC["png"] and width == 2 * 200
    elif fmt == "pdf":
        assert data[:4] == MAGIC["pdf"]
    else:
        assert b"<svg" in data[:400]
    with pytest.raises(ScaleplanError, match="format must be one of png, pdf, svg"):
        save(fig, tmp_path, "f", "jpg")


def test_a_bad_format_is_one_line_and_status_2(tmp_path):
    command = [sys.executable, "-m", "scaleplan", "reproduce", "--out", str(tmp_path)]
    r = subprocess.run([*command, "--format", "jpg"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "argument --format: invalid choice: 'jpg'" in lines[0]
    assert not any(tmp_path.iterdir())
