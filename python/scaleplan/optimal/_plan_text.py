"""A `Plan` (`optimal/plan.py`) as text, HTML and plain data: what `scaleplan plan`
prints, a notebook shows and `--json` writes.

Private: no user calls these functions. They are the machinery behind `Plan.summary()`,
`Plan.to_dict()`, `repr(plan)` and `Plan._repr_html_()`, which are the public way to each
form, so they are documented (with examples) there; keeping them out of the API leaves the
text's layout free to change without a deprecation. Nothing outside `plan_result`
imports them.

Every sentence compares like with like: the savings the text states are the cells of the
table's "recommendation saves" row, all priced by the roofline on whole GPUs; the paper's
constant-MFU dollars have a table of their own, which no sentence compares with the first.
"""

from __future__ import annotations

import html
from typing import Any

from .._utils.text import money, render_table, si_number
from ._plan_experts import expert_data, expert_section


def _shape(plan: Any) -> str:
    s = plan.shape
    return f"{s.d_model} x {s.n_layers}, {s.n_heads}/{s.n_kv_heads}"


def saving_words(recommended: float, other: float) -> str:
    """What the recommendation saves against a model costing `other`, as a percentage of
    that model's dollars, `1 - recommended / other` (the table's cell and the sentence's)."""
    return f"{100 * (1 - recommended / other):.1f}%"


def plan_repr(p: Any) -> str:
    """A few lines: the recommendation, its dollars and cost model, the alternatives'."""
    r = p.recommendation
    t, v = r.training, r.serving
    others = ", ".join(f"{a.label} {money(a.total_dollars)}" for a in p.alternatives.values())
    return (
        f"Plan: {si_number(r.params)} params, {si_number(r.tokens)} tokens ({_shape(r)}), "
        f"lifetime {money(r.total_dollars)}\n"
        f"  training {money(t.dollars)} ({t.gpus} {t.gpu} x {t.days:.3g} days), "
        f"serving {money(v.dollars)} ({v.gpus} {v.gpu})\n"
        f"  {p.cost_model}\n"
        f"  alternatives, same prices: {others}"
    )


# Rows of the comparison table: label, and one model's cell.
_ROWS = (
    ("parameters (as built)", lambda c: si_number(c.plan.params)),
    ("training tokens", lambda c: si_number(c.plan.tokens)),
    ("tokens / parameter", lambda c: f"{c.plan.tokens / c.plan.params:.0f}"),
    ("shape (width x depth, heads/KV)", lambda c: _shape(c.plan)),
    ("training GPUs x days", lambda c: f"{c.plan.training.gpus} x {c.plan.training.days:.3g}"),
    ("serving GPUs (replicas x TP)", lambda c: (f"{c.plan.serving.gpus} ({c.plan.serving.replicas}"
                                                f" x {c.plan.serving.tensor_parallel})")),
    ("decode batch, TPOT", lambda c: (f"{c.plan.serving.batch_size:g}, "
                                      f"{c.plan.serving.seconds_per_token * 1e3:.3g} ms"
                                      + (" (spec.)" if c.plan.serving.speculative else ""))),
    ("TTFT", lambda c: f"{c.plan.serving.ttft_seconds * 1e3:.3g} ms"),
    ("$ per M output tokens", lambda c: money(c.plan.serving.dollars_per_million_output_tokens)),
    ("training $", lambda c: money(c.training_dollars)),
    ("serving $", lambda c: money(c.serving_dollars)),
    ("lifetime $", lambda c: money(c.total_dollars)),
)  # fmt: skip

_PAPER_ROWS = (
    ("parameters", lambda c: si_number(c.params)),
    ("training tokens", lambda c: si_number(c.tokens)),
    ("lifetime FLOPs", lambda c: f"{c.total_flops:.3g}"),
    ("training $ (paper)", lambda c: money(c.paper_training_dollars)),
    ("inference $ (paper)", lambda c: money(c.paper_inference_dollars)),
    ("lifetime $ (paper)", lambda c: money(c.paper_total_dollars)),
)


def _table(p: Any, rows: Any, saves: bool) -> str:
    models = p.models
    body = [(label, *(cell(m) for m in models.values())) for label, cell in rows]
    if saves:
        rec = p.recommended.total_dollars
        saves = [saving_words(rec, a.total_dollars) for a in p.alternatives.values()]
        body.append(("recommendation saves", "-", *saves))
    heads = [m.label for m in models.values()]
    return render_table(("", *heads), body)


def _header(p: Any) -> list[str]:
    r, a = p.recommendation, p.assumptions
    t, v = r.training, r.serving
    return [
        f"Recommended: {si_number(r.params)} parameters trained on {si_number(r.tokens)} "
        f"tokens, lifetime {money(r.total_dollars)} (training {money(t.dollars)}, "
        f"serving {money(v.dollars)})",
        f"  train on {t.gpus} {t.gpu} ({a['train_precision'].value}) for {t.days:.3g} days; "
        f"serve on {v.gpus} {v.gpu} ({a['serving_precision'].value}): {v.replicas} "
        f"replicas x TP {v.tensor_parallel}, decode batch {v.batch_size:g}"
        + (f", speculative ({a['speculation'].value})" if v.speculative else ""),
        f"Target: a model {p.target}, law {a['law'].value}, serving "
        f"{si_number(p.requests)} requests ({si_number(p.inference_tokens)} tokens) over "
        f"its life",
        f"Cost model: {p.cost_model}; training {money(a['train_price_per_hour'].value)}, "
        f"serving {money(a['serving_price_per_hour'].value)} per GPU-hour",
    ]


def _supply(p: Any) -> str:
    """The unique-token supply, in one paragraph (empty without one)."""
    f = p.fluid
    if p.assumptions["unique_tokens"].value is None:
        return ""
    u = si_number(float(f.unique_tokens))
    if not bool(f.binding):
        return (
            f"\n\nWith {u} unique tokens the supply does not bind: the plan stands as without it."
        )
    return (
        f"\n\nWith {u} unique tokens (data-constrained law, R_D* {f.law.rd_star:.4g}, R_N* "
        f"{f.law.rn_star:.4g}) every model above is trained to the loss under that supply; "
        f"the fluid optimum repeats its data {float(f.epochs):.3g} times and costs "
        f"{100 * float(f.premium):.2f}% more than with unlimited data (both by the roofline)."
    )


def plan_summary(p: Any) -> str:
    """The text `scaleplan plan` prints."""
    f = p.fluid
    a = p.assumptions
    alts = p.alternatives.values()
    rec = p.recommended.total_dollars
    parts = [f"{saving_words(rec, m.total_dollars)} against the {m.label} model" for m in alts]
    saved = ", ".join(parts[:-1]) + f" and {parts[-1]}"
    near = f"the optimum in fractions of a replica ({si_number(float(f.params))} parameters)"
    taken = [m.label for m in alts if m.plan is p.recommendation]
    origin = (
        f"It is the cheapest whole-GPU plan near {near}."
        if not taken
        else f"It is the {taken[0]} model's plan, cheaper than every whole-GPU plan near {near}."
    )
    return (
        "\n".join(_header(p))
        + "\n\nEvery model at the target loss, as built (the shape policy's shape for its "
        "size, trained to the loss) and priced by this cost model:\n\n"
        + _table(p, _ROWS, saves=True)
        + f"\n\nThe recommendation saves {saved}, in lifetime dollars by the roofline. {origin}"
        + _supply(p)
        + "\n\nFor reproducing Sardana et al. 2024: the paper's cost model (constant MFU, "
        f"prefill {100 * a['prefill_mfu'].value:g}%, decode {100 * a['decode_mfu'].value:g}%) "
        "prices each model at its own size; its dollars are not comparable with the table "
        "above, and its cost-optimal column is its own optimum:\n\n"
        + _table(p, _PAPER_ROWS, saves=False)
        + ("" if p.experts is None else expert_section(p.experts))
    )


def plan_html(p: Any) -> str:
    """A notebook's view: the recommendation, the cost model and the comparison table."""
    esc = html.escape
    heads = "".join(f"<th>{esc(m.label)}</th>" for m in p.models.values())
    rows = "".join(
        f"<tr><th style='text-align:left'>{esc(label)}</th>"
        + "".join(f"<td>{esc(cell(m))}</td>" for m in p.models.values())
        + "</tr>"
        for label, cell in _ROWS
    )
    head = esc(_header(p)[0])
    return (f"<p><b>{head}</b><br>{esc(p.cost_model)}</p>"
            f"<table><tr><th></th>{heads}</tr>{rows}</table>")  # fmt: skip


def _physical(plan: Any) -> dict[str, Any]:
    s = plan.shape
    return {
        "shape": {"d_model": s.d_model, "n_layers": s.n_layers, "n_heads": s.n_heads,
                  "n_kv_heads": s.n_kv_heads, "d_ff": s.d_ff, "params": plan.params},
        "params": plan.params,
        "tokens": plan.tokens,
        "training": vars(plan.training),
        "serving": vars(plan.serving),
        "total_dollars": plan.total_dollars,
    }  # fmt: skip


_MODEL_KEYS = (
    "params", "tokens", "tokens_per_param", "training_flops", "inference_flops", "total_flops",
    "training_dollars", "serving_dollars", "total_dollars",
    "paper_training_dollars", "paper_inference_dollars", "paper_total_dollars",
)  # fmt: skip


def _fluid(f: Any) -> dict[str, Any]:
    out = {k: float(getattr(f, k)) for k in ("params", "tokens", "training_dollars",
                                             "serving_dollars")}  # fmt: skip
    if hasattr(f, "unique_tokens"):
        out |= {"unique_tokens": float(f.unique_tokens), "epochs": float(f.epochs),
                "effective_tokens": float(f.effective_tokens), "binding": bool(f.binding),
                "premium": float(f.premium)}  # fmt: skip
    return out


def plan_dict(p: Any) -> dict[str, Any]:
    """Plain data (`--json`): the target, the cost model and its assumptions (`units`
    beside them), and each model, the recommendation first; the roofline's dollars under
    `*_dollars`, the paper's under `paper_*_dollars`."""
    models = {}
    for name, m in p.models.items():
        models[name] = {"label": m.label, **{k: getattr(m, k) for k in _MODEL_KEYS},
                        "physical": _physical(m.plan)}  # fmt: skip
    models["recommendation"]["physical"]["fluid"] = _fluid(p.fluid)
    data: dict[str, Any] = {
        "law": p.assumptions["law"].value,
        "loss": p.loss,
        "target": p.target,
        "requests": p.requests,
        "inference_tokens": p.inference_tokens,
        "cost_model": p.cost_model,
        "assumptions": {k: a.value for k, a in p.assumptions.items()},
        "units": {k: a.unit for k, a in p.assumptions.items()},
        "models": models,
    }
    if p.experts is not None:
        data["experts"] = expert_data(p.experts)
    if hasattr(p.fluid, "unique_tokens"):
        data["data_constrained"] = {**_fluid(p.fluid), "rd_star": p.fluid.law.rd_star,
                                    "rn_star": p.fluid.law.rn_star}  # fmt: skip
    return data
