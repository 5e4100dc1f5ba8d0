"""Every public entry point, each with one valid call whose arguments the fuzz tests
replace one at a time by hostile values (see `contract.HOSTILE`).

`Entry.nan_ok` lists result fields where NaN is a documented answer ("no such value"),
not a lie. Fits run on small synthetic data with few starts so that each hostile call
stays well under the contract's time limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import scaleplan as sp
from scaleplan.arch import counts, policy, shapes
from scaleplan.fitting import (
    bootstrap,
    downstream,
    family_comparison,
    fit,
    isoflop,
    likelihood,
    likelihood_bootstrap,
    nextrun,
)
from scaleplan.optimal import allocation, physical_optimum
from scaleplan.optimal.data_constrained import training_optimal
from scaleplan.systems import physical, serving, shape_search, steptime


@dataclass(frozen=True)
class Entry:
    name: str
    fn: Callable[..., Any]
    base: dict[str, Any]
    nan_ok: frozenset[str] = field(default_factory=frozenset)
    slow: bool = False  # a fit: fuzzed on fewer hostile values per argument
    # Arguments that count work (resamples): argument -> (the most the Hypothesis fuzzer
    # asks for, the most the function accepts). A valid count above the first is a long
    # computation, not hostile input (24,000 isoflop resamples took 5 s alone and over
    # the 20 s limit beside another worker); counts beyond the second are drawn as they
    # are, and must be refused at once.
    work: dict[str, tuple[int, int]] = field(default_factory=dict)

    def drawn(self, argument: str, value: Any) -> Any:
        """`value` for `argument` as the fuzzer passes it: a valid work count capped."""
        cap, most = self.work.get(argument, (None, None))
        if cap is None or isinstance(value, bool) or not isinstance(value, int):
            return value
        return cap if cap < value <= most else value


def _runs() -> dict[str, np.ndarray]:
    """24 runs of the Chinchilla law at three budgets with 0.5% deterministic noise."""
    n = np.geomspace(5e7, 2e9, 8)
    params, tokens = [], []
    for c in (1e19, 1e20, 1e21):
        params += list(n)
        tokens += list(c / (6 * n))
    p, t = np.array(params), np.array(tokens)
    wobble = 1 + 0.005 * np.sin(np.arange(p.size) * 1.7)
    return {"params": p, "tokens": t, "loss": sp.CHINCHILLA.loss(p, t) * wobble}


RUNS = _runs()
START = np.array([[6.0, 6.0, 0.5, 0.34, 0.28]])
SHAPE = shapes.TransformerShape(d_model=4096, n_layers=32, n_heads=32, vocab=32000)
SMALL = shapes.TransformerShape(d_model=512, n_layers=4, n_heads=8, seq_len=256, batch_size=2)
CURVE = physical_optimum.ServingCurve(
    np.geomspace(1e8, 1e13, 11), 1e-4 * np.geomspace(1e8, 1e13, 11) / 1e9
)
_ISO = {
    "params": np.tile(np.geomspace(1e8, 1e10, 7), 3),
    "flops": np.repeat([1e20, 1e21, 1e22], 7),
}
_ISO["tokens"] = _ISO["flops"] / (6 * _ISO["params"])
_ISO["loss"] = sp.CHINCHILLA.loss(_ISO["params"], _ISO["tokens"])
_LIKELIHOOD = likelihood.fit_likelihood(**RUNS)
_BOOT = likelihood_bootstrap.bootstrap_likelihood(**RUNS, n_resamples=8, seed=0)
_DOWN = downstream.sardana_downstream()
# The serving options every planner takes (a `Deployment`'s fields, checked there).
SERVING = dict(
    input_tokens=70.0,
    output_tokens=215.0,
    tpot_seconds=0.05,
    ttft_seconds=1.0,
    peak_to_average=2.0,
    price_per_hour=3.0,
)
_TIME_MODEL = steptime.StepTimeModel(c_flop=1e-15, c_mem=1e-12, c_0=1e-3)


def _entries() -> list[Entry]:
    law = sp.CHINCHILLA
    return [
        Entry("ScalingLaw", sp.ScalingLaw, dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)),
        Entry("ScalingLaw.loss", law.loss, dict(params=7e9, tokens=1.4e11)),
        Entry("chinchilla_optimal(loss)", sp.chinchilla_optimal, dict(loss=2.1, law=law)),
        Entry("chinchilla_optimal(compute)", sp.chinchilla_optimal, dict(compute=1e23)),
        Entry("chinchilla_optimal(params)", sp.chinchilla_optimal, dict(params=7e9)),
        Entry(
            "compute_optimal",
            sp.compute_optimal,
            dict(loss=2.1, inference_tokens=1e12, law=law, tol=1e-13, max_iter=100),
        ),
        Entry(
            "compute_optimal(unique)",
            sp.compute_optimal,
            dict(loss=2.1, inference_tokens=1e12, unique_tokens=1e11),
        ),
        Entry(
            "cost_optimal",
            sp.cost_optimal,
            dict(loss=2.1, requests=1e9, input_tokens=70.0, output_tokens=215.0),
        ),
        Entry(
            "cost_optimal(unique)",
            sp.cost_optimal,
            dict(loss=2.1, requests=1e9, unique_tokens=1e11),
        ),
        Entry("best_quality", sp.best_quality, dict(flop_budget=1e23, inference_tokens=1e12)),
        Entry(
            "best_quality(dollars)",
            sp.best_quality,
            dict(dollar_budget=1e6, requests=1e9, input_tokens=70.0, output_tokens=215.0),
        ),
        Entry(
            "best_quality(unique)",
            sp.best_quality,
            dict(flop_budget=1e23, inference_tokens=1e12, unique_tokens=1e11),
        ),
        Entry(
            "lifetime_cost",
            sp.lifetime_cost,
            dict(params=7e9, tokens=1e12, requests=1e9, input_tokens=70.0, output_tokens=215.0),
        ),
        Entry(
            "breakeven_requests",
            sp.breakeven_requests,
            dict(params=7e9, tokens=1.4e11, smaller_params=3e9),
        ),
        Entry(
            "CostModel",
            sp.CostModel,
            dict(
                train_price_per_hour=2.0,
                inference_price_per_hour=1.0,
                train_mfu=0.5,
                prefill_mfu=0.4,
                decode_mfu=0.02,
            ),
        ),
        Entry(
            "implied_demand",
            sp.implied_demand,
            dict(params=8.03e9, tokens=1.5e13, input_tokens=70.0, output_tokens=215.0),
            nan_ok=frozenset({"inference_tokens", "requests"}),
        ),
        Entry(
            "DataConstrainedLaw", sp.DataConstrainedLaw, dict(law=law, rd_star=15.4, rn_star=5.3)
        ),
        Entry(
            "DataConstrainedLaw.loss",
            sp.DataConstrainedLaw(law).loss,
            dict(params=7e9, tokens=2e12, unique_tokens=1e12),
        ),
        Entry("training_optimal", training_optimal, dict(flops=1e22, unique_tokens=1e10)),
        Entry("JointMoELaw", sp.JointMoELaw, dict(a=35.91, c=1.3637, e_max=290.0)),
        Entry("JointMoELaw.loss", sp.JOINT_MOE.loss, dict(params=1e9, tokens=2e10, experts=8.0)),
        Entry(
            "expert_optimal",
            sp.expert_optimal,
            dict(loss=2.3, inference_tokens=1e12, memory_bytes=4e9, bytes_per_param=2.0),
        ),
        Entry("fine_grained_optimal", sp.fine_grained_optimal, dict(compute=1e21)),
        Entry(
            "FineGrainedMoELaw.loss",
            sp.KRAJEWSKI2024.loss,
            dict(params=1e10, tokens=1e11, granularity=8.0),
        ),
        Entry("expert_plan", sp.expert_plan, dict(loss=2.3, requests=1e9, experts=[1, 4])),
        Entry(
            "training_experts",
            sp.training_experts,
            dict(compute=1e22, memory_bytes=80e9, kv_tokens=16384.0),
        ),
        Entry(
            "flop_ratio_grid",
            sp.flop_ratio_grid,
            dict(losses=[2.1, 2.2], inference_tokens=[0.0, 1e12]),
        ),
        Entry(
            "cost_ratio_grid",
            sp.cost_ratio_grid,
            dict(losses=[2.1, 2.2], requests=[0.0, 1e9], input_tokens=70.0, output_tokens=215.0),
        ),
        Entry("exchange_rate", allocation.exchange_rate, dict(params=3e9, tokens=3e12)),
        Entry("share_sweep", allocation.share_sweep, dict(loss=2.1, demands=[1e10, 1e12])),
        Entry("physical_optimal", sp.physical_optimal, dict(loss=2.1, requests=1e9, curve=CURVE)),
        Entry(
            "ServingCurve",
            physical_optimum.ServingCurve,
            dict(params=CURVE.params, dollars_per_request=CURVE.dollars_per_request),
        ),
        Entry(
            "ServingCurve.roofline",
            physical_optimum.ServingCurve.roofline,
            dict(
                deployment=sp.Deployment(gpu="h100-sxm", **SERVING),
                params=(1e8, 1e10),
                per_decade=4,
            ),
        ),
        Entry(
            "Deployment",
            sp.Deployment,
            dict(
                gpu="h100-sxm",
                precision="bf16",
                kv_precision="fp8",
                tensor_parallel=2,
                efficiency=serving.Efficiency(),
                **SERVING,
            ),
        ),
        Entry(
            "serving_plan(deployment=)",
            physical.serving_plan,
            dict(shape=SHAPE, deployment=sp.Deployment(), requests_per_day=1e6, days=365.0),
        ),
        Entry(
            "whole_gpu_plan",
            physical_optimum.whole_gpu_plan,
            dict(loss=2.1, params=3e9, requests_per_day=1e6, days=365.0),
        ),
        Entry(
            "training_plan",
            physical.training_plan,
            dict(shape=SHAPE, tokens=1e12, gpu="h100-sxm", gpus=64, mfu=0.4, price_per_hour=3.0),
        ),
        Entry(
            "serving_plan",
            physical.serving_plan,
            dict(
                shape="llama-2-7b",
                deployment="h100-sxm",
                requests_per_day=1e6,
                days=365.0,
            ),
        ),
        Entry(
            "physical_plan",
            physical.physical_plan,
            dict(params=7e9, tokens=1e12, requests_per_day=1e6, days=365.0),
        ),
        Entry(
            "physical_plan(training=)",
            physical.physical_plan,
            dict(
                params=7e9,
                tokens=1e12,
                training=sp.Training(gpu="a100-80gb", gpus=64, mfu=0.45, price_per_hour=2.0),
                deployment=sp.Deployment(**SERVING),
                requests_per_day=1e6,
                days=365.0,
            ),
        ),
        Entry(
            "Training",
            sp.Training,
            dict(gpu="h100-sxm", gpus=64, precision="bf16", mfu=0.4, price_per_hour=3.0),
        ),
        Entry(
            "decode",
            serving.decode,
            dict(
                shape=SHAPE,
                gpu="h100-sxm",
                batch_size=8,
                context_tokens=1024,
                tensor_parallel=1,
                target_seconds=None,
            ),
        ),
        Entry(
            "prefill",
            serving.prefill,
            dict(shape=SHAPE, prompt_tokens=512, batch_size=1, tensor_parallel=2),
        ),
        Entry(
            "Efficiency",
            serving.Efficiency,
            dict(
                compute=0.5,
                memory=0.9,
                overhead_seconds=0.005,
                memory_fraction=0.9,
                collective_seconds=1e-4,
            ),
        ),
        Entry(
            "TransformerShape",
            shapes.TransformerShape,
            dict(
                d_model=512,
                n_layers=4,
                n_heads=8,
                vocab=32000,
                head_dim=64,
                n_kv_heads=4,
                d_ff=1024,
                gated=True,
                tied=False,
                seq_len=256,
                batch_size=2,
                extra_params=0,
            ),
        ),
        Entry(
            "from_hf_config",
            shapes.TransformerShape.from_hf_config,
            dict(
                config={
                    "model_type": "llama",
                    "hidden_size": 512,
                    "num_hidden_layers": 4,
                    "num_attention_heads": 8,
                    "intermediate_size": 1024,
                    "vocab_size": 32000,
                },
                seq_len=256,
                batch_size=1,
            ),
        ),
        Entry("step_counts", counts.step_counts, dict(shapes=SMALL)),
        Entry(
            "shape_for_params",
            policy.shape_for_params,
            dict(params=7e9, aspect=128, head_dim=128, gqa_group=8, vocab=32000),
        ),
        Entry(
            "StepTimeModel",
            steptime.StepTimeModel,
            dict(c_flop=1e-15, c_mem=1e-12, c_0=1e-3, bytes_per_element=2.0),
        ),
        Entry(
            "loss_in_budget",
            steptime.loss_in_budget,
            dict(shapes=SMALL, seconds=3600.0, time_model=_TIME_MODEL),
        ),
        Entry(
            "best_shapes",
            shape_search.best_shapes,
            dict(
                seconds=3600.0,
                time_model=_TIME_MODEL,
                max_params=1e9,
                top=3,
                candidates={"d_model": [512, 1024], "n_layers": [4, 8], "n_heads": [8]},
                max_memory_bytes=8e10,
            ),
        ),
        Entry("fit_law", fit.fit_law, dict(**RUNS, starts=START, delta=1e-3), slow=True),
        Entry(
            "bootstrap_law",
            bootstrap.bootstrap_law,
            dict(**RUNS, n_resamples=4, seed=0, confidence=0.9, starts=START),
            slow=True,
        ),
        Entry("fit_likelihood", likelihood.fit_likelihood, dict(**RUNS, delta=1e-3), slow=True),
        Entry(
            "bootstrap_likelihood",
            likelihood_bootstrap.bootstrap_likelihood,
            dict(**RUNS, n_resamples=4, seed=0),
            slow=True,
        ),
        Entry(
            "test_law", likelihood_bootstrap.test_law, dict(boot=_BOOT, **RUNS, law=sp.CHINCHILLA)
        ),
        Entry(
            "isoflop_fit",
            isoflop.isoflop_fit,
            dict(
                **_ISO,
                budgets=(1e20, 1e21, 1e22),
                width=0.05,
                n_resamples=8,
                confidence=0.9,
                seed=0,
            ),
            work={"n_resamples": (2000, bootstrap.MAX_RESAMPLES)},
        ),
        Entry(
            "compare_families",
            family_comparison.compare_families,
            # 12 runs, 4 a group: each held-out fit keeps 8 (a law needs more than 5).
            dict(
                **{k: v[::2] for k, v in RUNS.items()},
                groups=np.repeat([1, 2, 3], 4),
                folds=3,
                seed=0,
                # Chinchilla's form: a fifth of the gadre fit's time (0.8 s against 4.3 s
                # here), which with another worker on the CPU passed the 20 s limit.
                families=("chinchilla",),
            ),
            slow=True,
        ),
        Entry(
            "fit_downstream",
            downstream.fit_downstream,
            dict(
                loss=np.linspace(2.0, 3.0, 12),
                score=0.8 - 0.6 * np.exp(-np.linspace(2.0, 3.0, 12)),
                chance=0.25,
            ),
        ),
        Entry("DownstreamFit.loss_for", _DOWN.loss_for, dict(score=0.4)),
        Entry(
            "next_run",
            nextrun.next_run,
            dict(**RUNS, flops=1e21, target_loss=2.1, inference_tokens=1e12, count=9),
            slow=True,
        ),
        Entry("accelerator", sp.accelerator, dict(name="h100-sxm")),
    ]


ENTRIES = _entries()
