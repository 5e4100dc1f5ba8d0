"""`scaleplan serve`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ...hardware.formats import FORMATS, KV_FORMATS
from ...systems.engines import DEFAULT_ENGINE, ENGINES
from ...systems.serving_fit import MODELS
from .. import speculation
from ..commands import SUMMARIES
from ..options import GPU_HELP, group, output
from ..render import render_table, si_number
from ..shared import gpu_name
from ..values import gpu, non_negative, non_negative_int, positive, positive_int


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve",
        help=SUMMARIES["serve"],
        description="One decode step (TPOT, tokens/s per GPU, implied MFU, which bound "
        "binds, the largest batch that fits) and one prefill (TTFT) of a transformer on "
        "an accelerator, by the roofline with the efficiencies fitted to published "
        "TensorRT-LLM measurements. With --tpot-ms the batch is the largest that meets it.",
    )
    m = group(p, "model")
    m.add_argument("--model", choices=list(MODELS), default="llama-2-7b",
                   help="a published shape (or give --d-model and --n-layers)")  # fmt: skip
    m.add_argument("--hf-config", metavar="PATH",
                   help="a Hugging Face config.json or its directory (not --model)")  # fmt: skip
    m.add_argument("--d-model", type=positive_int, help="model width (instead of --model)")
    m.add_argument("--n-layers", type=positive_int, help="transformer blocks")
    m.add_argument("--n-heads", type=positive_int, default=32, help="attention heads")
    m.add_argument("--n-kv-heads", type=positive_int,
                   help="key/value heads (default: --n-heads)")  # fmt: skip
    m.add_argument("--d-ff", type=positive_int, help="MLP width (default: 4 x --d-model)")
    h = group(p, "hardware")
    h.add_argument("--gpu", default="h100-sxm", type=gpu, metavar="GPU",
                   help=f"accelerator: {GPU_HELP}")  # fmt: skip
    h.add_argument("--precision", default="bf16", choices=list(FORMATS),
                   help="number format of the weights (fp4 is NVFP4; weight-only w8a16 "
                   "and w4a16 compute in fp16)")  # fmt: skip
    h.add_argument("--kv-precision", choices=list(KV_FORMATS),
                   help="number format of the KV cache (default: --precision's; fp8 for "
                   "4-bit weights, fp16 for weight-only ones)")  # fmt: skip
    h.add_argument("--tensor-parallel", type=positive_int, default=1,
                   help="GPUs per replica (count)")  # fmt: skip
    h.add_argument("--expert-parallel", type=positive_int, default=1, metavar="N",
                   help="GPUs of the replica the routed experts are split over: divides "
                   "--tensor-parallel and the experts (default 1)")  # fmt: skip
    h.add_argument("--attention-data-parallel", action="store_true",
                   help="attention data parallel: every GPU holds all but the routed "
                   "experts and its own sequences; tokens reach their experts by all-to-all "
                   "(needs --expert-parallel equal to --tensor-parallel for an MoE)")  # fmt: skip
    s = group(p, "serving")
    s.add_argument("--batch-size", type=positive_int, default=1, help="sequences per step")
    s.add_argument("--context-tokens", type=non_negative_int, default=2048,
                   help="tokens each decoding sequence attends to")  # fmt: skip
    s.add_argument("--prompt-tokens", type=positive_int, default=2048,
                   help="prompt length of the prefill, tokens")  # fmt: skip
    s.add_argument("--tpot-ms", type=positive,
                   help="latency target per output token, ms (then the batch is the largest "
                   "that meets it)")  # fmt: skip
    s.add_argument("--engine", choices=list(ENGINES), default=DEFAULT_ENGINE,
                   help="engine profile: the calibration of how an engine generation runs "
                   "a model (default: %(default)s)")  # fmt: skip
    s.add_argument("--overhead-ms", type=non_negative,
                   help="time every step adds, ms (default: the engine's)")  # fmt: skip
    s.add_argument("--collective-ms", type=non_negative,
                   help="latency of each all-reduce, ms (default: the engine's)")  # fmt: skip
    s.add_argument("--requests-per-second", type=positive, metavar="RATE",
                   help="also the mean TTFT and TPOT at this steady request rate to the "
                   "replica, by Little's law (each request --prompt-tokens in, "
                   "--output-tokens out)")  # fmt: skip
    s.add_argument("--output-tokens", type=positive_int, default=256,
                   help="output tokens of a request at --requests-per-second (default: "
                   "%(default)s)")  # fmt: skip
    speculation.add(p, s)
    output(p)
    return p


def _shape(args: argparse.Namespace) -> Any:
    from ...arch.shapes import TransformerShape
    from ..shared import CliError

    if args.hf_config is not None:
        if args.d_model is not None or args.n_layers is not None:
            raise CliError("give --hf-config or --d-model/--n-layers, not both")
        return args.hf_config, TransformerShape.from_hf_config(args.hf_config)
    if args.d_model is None and args.n_layers is None:
        return args.model, MODELS[args.model]
    if args.d_model is None or args.n_layers is None:
        raise CliError("give both --d-model and --n-layers, or neither (then --model)")
    shape = TransformerShape(d_model=args.d_model, n_layers=args.n_layers, n_heads=args.n_heads,
                             n_kv_heads=args.n_kv_heads, d_ff=args.d_ff)  # fmt: skip
    return "custom", shape


def _sizes(shape: Any, counts: Any) -> str:
    """ "7B parameters", or for a mixture of experts its total, active and experts."""
    if counts.active_params == counts.params:
        return f"{si_number(counts.params)} parameters"
    return (f"{si_number(counts.params)} parameters, {si_number(counts.active_params)} active; "
            f"{shape.experts_per_token} of {shape.experts} experts")  # fmt: skip


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from dataclasses import replace

    from ...arch.counts import step_counts
    from ...systems.serving import decode, prefill

    name, shape = _shape(args)
    eff = ENGINES[args.engine].efficiency
    if args.overhead_ms is not None:
        eff = replace(eff, overhead_seconds=args.overhead_ms / 1e3)
    if args.collective_ms is not None:
        eff = replace(eff, collective_seconds=args.collective_ms / 1e3)
    common = dict(gpu=args.gpu, precision=args.precision, kv_precision=args.kv_precision,
                  tensor_parallel=args.tensor_parallel, efficiency=eff)  # fmt: skip
    target = None if args.tpot_ms is None else args.tpot_ms / 1e3
    spec = speculation.of(args)
    layout = _layout(args, spec)
    batch = args.batch_size
    if spec is not None:
        # The speculative step meets the target; the plain step is shown at its batch.
        more, fast = _speculative(shape, spec, args, common, target)
        batch, target = fast["batch_size"], None
    d = decode(shape, batch_size=batch, context_tokens=args.context_tokens,
               target_seconds=target, **common, **layout)  # fmt: skip
    p = prefill(shape, prompt_tokens=args.prompt_tokens, **common, **layout)
    counts = step_counts(shape)
    data = {
        "model": name,
        "params": counts.params,
        "active_params": counts.active_params,
        "gpu": gpu_name(args.gpu),
        "precision": args.precision,
        "tensor_parallel": args.tensor_parallel,
        **layout,
        "engine": args.engine,
        "efficiency": {
            "compute": eff.compute_for(args.precision),
            "memory": eff.memory,
            "overhead_seconds": eff.overhead_seconds,
            "collective_seconds": eff.collective_seconds,
            "link": eff.link,
            "reserve_bytes": eff.reserve_bytes,
            "kv_share": eff.kv_share,
        },
        "decode": _step(d),
        "prefill": _step(p),
    }
    rows = [
        ("model", f"{name} ({_sizes(shape, counts)})"),
        (
            "GPUs per replica",
            f"{args.tensor_parallel} x {gpu_name(args.gpu)}, {args.precision}"
            f"{_layout_words(layout)}",
        ),
        ("decode batch", f"{d.batch_size:g} (fits up to {d.max_batch_size:g})"),
        ("time per output token (TPOT)", f"{d.seconds * 1e3:.3g} ms"),
        ("decode tokens/s per GPU", f"{d.tokens_per_second:.4g}"),
        ("decode MFU", f"{d.mfu:.1%} ({d.bound}-bound)"),
        ("time to first token (TTFT)", f"{p.seconds * 1e3:.3g} ms ({p.bound}-bound)"),
    ]
    if spec is not None:
        data["speculative"] = fast
        rows += more
    if args.requests_per_second is not None:
        data["online"], online_rows = _online(shape, args, common)
        rows += online_rows
    return data, render_table(("serving by the roofline", "value"), rows)


def _layout(args: argparse.Namespace, spec: Any) -> dict[str, Any]:
    """`decode`'s expert_parallel and attention_data_parallel from --expert-parallel and
    --attention-data-parallel; exit 2 where a question they do not reach is asked with them (the
    speculative step and the online latency price tensor parallelism only)."""
    from ..shared import CliError

    layout = {"expert_parallel": args.expert_parallel,
              "attention_data_parallel": args.attention_data_parallel}  # fmt: skip
    if layout != {"expert_parallel": 1, "attention_data_parallel": False}:
        for option, value in (("--draft", spec), ("--requests-per-second",
                                                  args.requests_per_second)):  # fmt: skip
            if value is not None:
                raise CliError(f"{option} is priced under tensor parallelism only; drop "
                               "--expert-parallel and --attention-data-parallel with "
                               "it")  # fmt: skip
    return layout


def _layout_words(layout: dict[str, Any]) -> str:
    """What the replica's layout adds to its GPUs' line."""
    words = []
    if layout["expert_parallel"] > 1:
        words.append(f"experts over {layout['expert_parallel']}")
    if layout["attention_data_parallel"]:
        words.append("attention data parallel")
    return "".join(f"; {w}" for w in words)


def _online(
    shape: Any, args: argparse.Namespace, common: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Mean TTFT and TPOT at --requests-per-second (`serving_online`): the JSON object
    and the rows; exit 2 where the replica cannot keep up."""
    from ...hardware.accelerators import accelerator
    from ...systems.serving_online import online_latency
    from ..shared import CliError

    rate = args.requests_per_second
    peak = accelerator(args.gpu).peak(args.precision)
    found = online_latency(shape, rate, args.prompt_tokens, args.output_tokens, peak, **common)
    if found is None:
        raise CliError(f"--requests-per-second: the replica cannot keep up with {rate:g} "
                       "requests/s (its prompts or its memory run out; requests would "
                       "queue without end)")  # fmt: skip
    ttft, tpot = found
    data = {"requests_per_second": rate, "input_tokens": args.prompt_tokens,
            "output_tokens": args.output_tokens, "ttft_seconds": ttft,
            "tpot_seconds": tpot}  # fmt: skip
    what = f"{args.prompt_tokens} in, {args.output_tokens} out"
    rows = [
        (f"at {rate:g} requests/s ({what})", "in-flight batching, by Little's law"),
        ("  mean TTFT", f"{ttft * 1e3:.3g} ms"),
        ("  mean TPOT", f"{tpot * 1e3:.3g} ms"),
    ]
    return data, rows


def _speculative(
    shape: Any, spec: Any, args: argparse.Namespace, common: dict[str, Any], target: Any
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The decode step under speculative decoding: its rows and its JSON object."""
    from ...systems.speculation import speculative_decode

    s = speculative_decode(shape, spec, batch_size=args.batch_size,
                           context_tokens=args.context_tokens, target_seconds=target,
                           **common)  # fmt: skip
    draft = spec.draft if isinstance(spec.draft, str) else args.draft
    data = {
        "draft": draft,
        "draft_tokens": spec.draft_tokens,
        "acceptance": spec.acceptance,
        "batch_size": float(s.batch_size),
        "seconds_per_token": float(s.seconds_per_token),
        "step_seconds": float(s.step_seconds),
        "draft_seconds": float(s.draft_seconds),
        "tokens_per_step": float(s.tokens_per_step),
        "tokens_per_second": float(s.tokens_per_second),
        "max_batch_size": float(s.max_batch_size),
    }
    what = f"{spec.draft_tokens} tokens from {draft}, each accepted with p = {spec.acceptance:g}"
    step = f"step {s.step_seconds * 1e3:.3g} ms, of it drafting {s.draft_seconds * 1e3:.3g} ms"
    rows = [
        ("speculative decoding", what),
        ("  decode batch", f"{s.batch_size:g} (fits up to {s.max_batch_size:g})"),
        ("  tokens a step", f"{s.tokens_per_step:.3g}"),
        ("  expected TPOT", f"{s.seconds_per_token * 1e3:.3g} ms ({step})"),
        ("  decode tokens/s per GPU", f"{s.tokens_per_second:.4g}"),
    ]
    return rows, data


def _step(s: Any) -> dict[str, Any]:
    return {
        "batch_size": s.batch_size,
        "tokens": s.tokens,
        "seconds": s.seconds,
        "tokens_per_second": s.tokens_per_second,
        "mfu": s.mfu,
        "bound": s.bound,
        "flops": s.flops,
        "bytes": s.bytes,
        "comm_seconds": s.comm_seconds,
        "max_batch_size": s.max_batch_size,
    }
