"""The expert choice inside a `Plan` (`plan(experts=...)`): the counts compared, the one
chosen, and why, as text and as data. Not public; `plan_result` and `_plan_text` use it."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils.text import money, render_table, si_number

__all__ = ["expert_data", "expert_section", "expert_why"]

_KEYS = ("params", "total_params", "tokens", "training_dollars", "serving_dollars",
         "total_dollars")  # fmt: skip
HEADERS = ("experts", "active params", "total params", "training tokens", "training $",
           "serving $", "lifetime $")  # fmt: skip


def expert_why(ex: Any) -> str:
    """Why `ex` (an `ExpertPlan`) chose its count, in sentences: what training and serving
    each gain or lose against the dense model, and what stopped more experts."""
    c = ex.candidates
    counts = [int(e) for e in c["experts"]]
    dense = counts.index(1)
    if ex.experts == 1:
        head = "The dense model (E = 1) is the cheapest of the counts compared."
    else:
        ratio = ex.params / float(c["params"][dense])
        head = (f"{ex.experts} experts: {100 * ex.saving:.1f}% fewer lifetime dollars than the "
                f"dense model of the same loss. Training costs {money(ex.training_dollars)} "
                f"against {money(float(c['training_dollars'][dense]))}: {ratio:.2f} of the "
                f"dense model's active parameters reach the loss. Serving costs "
                f"{money(ex.serving_dollars)} against {money(float(c['serving_dollars'][dense]))}"
                f", holding {si_number(ex.total_params)} parameters in all.")  # fmt: skip
    return head + _beyond(ex, counts)


def _beyond(ex: Any, counts: list[int]) -> str:
    """What the counts above the chosen one did: cost more, or reach no curve."""
    c = ex.candidates
    above = [i for i, e in enumerate(counts) if e > ex.experts]
    if not above:
        return (" It is the largest count compared; more experts may cost less still."
                if ex.experts > 1 else "")  # fmt: skip
    unreached = [counts[i] for i in above if not np.isfinite(c["total_dollars"][i])]
    dearer = [i for i in above if np.isfinite(c["total_dollars"][i])]
    words = ""
    if dearer:
        i = dearer[0]
        grew = "serving" if c["serving_dollars"][i] > ex.serving_dollars else "training"
        words += (f" {counts[i]} experts cost {money(float(c['total_dollars'][i]))}: their "
                  f"{grew} costs more than the experts save.")  # fmt: skip
    if unreached:
        words += (f" No model of {', '.join(map(str, unreached))} experts at this loss is "
                  "served by the deployment's GPUs (its curve does not reach it).")  # fmt: skip
    return words


def expert_section(ex: Any) -> str:
    """The section `Plan.summary()` adds: the table of counts and `expert_why`."""
    c = ex.candidates
    rows = [(f"{int(e)}", *(_cell(k, float(c[k][i])) for k in _KEYS))
            for i, e in enumerate(c["experts"])]  # fmt: skip
    return ("\n\nThe expert count under the MoE law at the same loss and demand (every "
            "expert in memory; serving by the MoE roofline in fractions of a replica, so the "
            "dense row is not the whole-GPU recommendation above):\n\n"
            + render_table(HEADERS, rows) + "\n\n" + expert_why(ex))  # fmt: skip


def _cell(key: str, value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return money(value) if key.endswith("dollars") else si_number(value)


def expert_data(ex: Any) -> dict[str, Any]:
    """Plain data (`--json`): the count chosen, its optimum, the dense total, the saving,
    the reasons, and every count compared (null where a count's curve does not reach)."""
    c = ex.candidates
    return {
        "experts": ex.experts,
        "optimal": {k: getattr(ex, k) for k in _KEYS},
        "dense_total_dollars": ex.dense_total_dollars,
        "saving": ex.saving,
        "why": expert_why(ex),
        "candidates": [
            {"experts": int(e), **{k: _or_none(float(c[k][i])) for k in _KEYS}}
            for i, e in enumerate(c["experts"])
        ],
    }


def _or_none(x: float) -> float | None:
    return x if np.isfinite(x) else None


def moe_inputs(law: Any, experts: Any) -> tuple[Any, list[int] | None]:
    """`plan`'s MoE law and the counts to compare, or `(None, None)` without `experts`:
    "auto" is `experts.EXPERT_COUNTS`, a count N is N beside the dense model, a sequence
    is its distinct counts in order (1 among them)."""
    from ..errors import ScaleplanError
    from .experts import EXPERT_COUNTS, expert_counts, resolve_moe_law

    if experts is None:
        return None, None
    moe = resolve_moe_law(law)
    if isinstance(experts, str):
        if experts != "auto":
            raise ScaleplanError(f"experts must be 'auto', a count or counts; got {experts!r}",
                                 "experts")  # fmt: skip
        return moe, [int(e) for e in EXPERT_COUNTS]
    counts = sorted({int(e) for e in np.ravel(expert_counts(experts))})
    return moe, sorted({1, *counts}) if len(counts) == 1 else counts
