"""Pure-Python references for the systems models (standard library `math` only): the
step's FLOPs and memory traffic (`reference_counts`), one serving step by the roofline,
and the physical optimum on a serving curve, each counted or searched apart from the Rust
core (see `reference` for the loss laws' and `reference_fits` for the fits').
`reference` re-exports them, as the tests import them from there.

Laws are tuples `(E, A, B, alpha, beta)`, as in `reference`.
"""

from __future__ import annotations

import math
from typing import Any

from .reference_counts import step_counts

__all__ = ["physical_optimum", "serving_step", "step_counts"]

Law = tuple[float, float, float, float, float]


def serving_step(
    shape: dict[str, Any],
    phase: str,
    batch: float,
    tokens: float,
    tp: float,
    gpu: dict[str, float],
) -> tuple[float, float, float, float, float, bool]:
    """(seconds, flops, bytes, comm seconds, max batch, memory-bound) of one decode or
    prefill step per GPU, by the roofline of docs/design.md §1.7, or None for a batch that does not
    fit. `gpu` holds peak, bandwidth, memory, link, compute, memory_eff, overhead, fraction,
    latency (per all-reduce, optional), weight_bytes, kv_bytes, and an engine's optional
    edge_bytes, gemm_half, kv_eff, reserve and kv_share. Counted matrix by matrix, apart from the
    Rust core's sums.

    Parameters
    ----------
    shape : dict
        `TransformerShape`'s fields by name.
    phase : str
        "decode" (one token per sequence) or "prefill" (the whole prompt).
    batch : float
        Sequences in the step.
    tokens : float
        Tokens per sequence: the context held (decode) or the prompt (prefill).
    tp : float
        Tensor-parallel degree (GPUs per replica).
    gpu : dict
        `peak` (FLOP/s), `bandwidth` (bytes/s), `memory` (bytes), `link` (bytes/s one
        way), the efficiencies `compute` and `memory_eff` (fractions), `overhead`
        (seconds per step), `fraction` (of memory usable), optional `latency` (seconds
        per all-reduce), and `weight_bytes`, `kv_bytes` (bytes per element); optional
        `edge_bytes` (bytes per weight outside the layers' matrices, default
        `weight_bytes`), `gemm_half` (tokens at half compute efficiency, default 0),
        `kv_eff` (the cache reads' bandwidth fraction, default `memory_eff`) and
        `reserve` (bytes per GPU kept by the runtime, default 0), `kv_share` (the
        cache's fraction of the memory the rest leave, default 1); for speculative
        decoding, `draft` (tokens drafted a sequence that a decode step verifies, default
        0) and `draft_kv` (bytes a token of a draft's cache takes per GPU, default 0);
        `attention_data_parallel` (default False): attention data parallel over the `tp` GPUs, the
        routed experts split `tp` ways (expert parallelism alone costs what tensor
        parallelism does, so it needs no key).

    Returns
    -------
    tuple
        Seconds per step, FLOPs and bytes moved per GPU, seconds of communication, the
        largest batch that fits in memory, and whether memory bounds the step.

    Examples
    --------
    >>> from scaleplan.arch.shapes import FIELDS, MODELS
    >>> from scaleplan.hardware.accelerators import ACCELERATORS
    >>> h100 = ACCELERATORS["h100-sxm"]
    >>> gpu = {"peak": h100.peak("bf16"), "bandwidth": h100.memory_bandwidth,
    ...        "memory": h100.memory_bytes, "link": h100.link_bandwidth, "compute": 1.0,
    ...        "memory_eff": 1.0, "overhead": 0.0, "fraction": 0.9, "weight_bytes": 2.0,
    ...        "kv_bytes": 2.0}
    >>> shape = {f: getattr(MODELS["llama-2-7b"], f) for f in FIELDS}
    >>> seconds, flops, moved, comm, most, memory_bound = serving_step(
    ...     shape, "decode", 64, 512, 1, gpu)
    >>> print(f"{seconds * 1e3:.2f} ms, {flops:.3g} FLOPs, {moved:.3g} bytes, "
    ...       f"batch <= {most}, memory-bound: {memory_bound}")
    9.07 ms, 8.63e+11 FLOPs, 3.04e+10 bytes, batch <= 217, memory-bound: True
    """
    d, layers, heads = shape["d_model"], shape["n_layers"], shape["n_heads"]
    hd, kv_heads, vocab = shape["head_dim"], shape["n_kv_heads"], shape["vocab"]
    v = shape.get("v_head_dim") or hd
    kv_rank, rope = shape.get("kv_lora_rank", 0), shape.get("rope_head_dim", 0)
    q_rank = shape.get("q_lora_rank", 0)
    if kv_rank:  # latent attention: query bottleneck, latent, per-head keys and values
        query = [(d, q_rank), (q_rank, heads * hd)] if q_rank else [(d, heads * hd)]
        attention = [*query, (d, kv_rank + rope), (kv_rank, heads * (hd - rope + v))]
    else:
        attention = [(d, heads * hd), (d, kv_heads * hd), (d, kv_heads * v)]
    attention.append((heads * v, d))  # output
    mats = 3 if shape["gated"] else 2
    experts, k = shape.get("experts", 1), shape.get("experts_per_token", 1)
    moe_layers = shape.get("moe_layers", 0)
    dp = gpu.get("attention_data_parallel", False)
    expert = mats * d * shape.get("expert_d_ff", shape["d_ff"])
    always_on = mats * d * shape.get("shared_d_ff", 0) + d * experts  # shared, router
    dense_mlp = mats * d * shape["d_ff"]
    attention_weights = sum(a * b for a, b in attention)
    # Matrices a token multiplies (its k experts), and every one stored.
    active = layers * attention_weights + (layers - moe_layers) * dense_mlp
    active += moe_layers * (k * expert + always_on)
    layer_weights = active + moe_layers * (experts - k) * expert
    per_token = active + vocab * d  # with logits
    norms = layers * (2 * d + q_rank + kv_rank) + d
    extra = shape.get("extra_params", 0)  # biases, position tables: read, no FLOPs
    embedding = 0 if shape["tied"] else vocab * d
    # The layers' matrices in the format; the head, norms and embedding at edge bytes.
    edge = gpu.get("edge_bytes", gpu["weight_bytes"])
    stored = layer_weights * gpu["weight_bytes"] + (vocab * d + norms + extra + embedding) * edge
    if kv_rank:  # the latent and rotary key, whole on every GPU of the group
        kv_per_token = layers * (kv_rank + rope) * gpu["kv_bytes"]
        per_context = 2 * layers * heads * (2 * kv_rank + rope)  # absorbed decode
    else:
        # A sequence lives on one GPU under data-parallel attention: all its KV heads.
        split = 1 if dp else tp
        kv_per_token = layers * math.ceil(kv_heads / split) * (hd + v) * gpu["kv_bytes"]
        per_context = 2 * layers * heads * (hd + v)
    routed = moe_layers * experts * expert * gpu["weight_bytes"]
    # Data-parallel attention: every GPU holds all but the routed experts whole.
    held_weights = stored - routed + routed / tp if dp else stored / tp
    drafted = gpu.get("draft", 0.0)
    held = tokens + 1 + drafted if phase == "decode" else tokens
    free = gpu["memory"] * gpu["fraction"] - gpu.get("reserve", 0.0) - held_weights
    room = gpu.get("kv_share", 1.0) * free  # the cache's share of what the rest leave
    per_gpu = math.floor(room / (held * (kv_per_token + gpu.get("draft_kv", 0.0))))
    max_batch = per_gpu * tp if dp else per_gpu
    if phase == "decode":
        # Each sequence computes its new token and the drafted ones, attending its context.
        in_step = batch * (1 + drafted)
        flops = 2 * in_step * per_token + in_step * tokens * per_context
    else:
        flops = 2 * batch * tokens * (per_token - vocab * d) + 2 * batch * vocab * d
        flops += batch * tokens**2 * layers * heads * (hd + v)  # causal: half the square
        in_step = batch * tokens
    # Uniform routing: an expert escapes all `in_step` tokens with (1 - k / E)^in_step.
    touched = experts * (1 - (1 - k / experts) ** in_step)
    untouched = moe_layers * (experts - touched) * expert
    read = stored - embedding * edge - untouched * gpu["weight_bytes"]
    if dp:  # the replicated part whole, the touched experts a tp-th
        read_routed = moe_layers * touched * expert * gpu["weight_bytes"]
        read_per_gpu = read - read_routed + read_routed / tp
    else:
        read_per_gpu = read / tp
    flops /= tp
    cache = (batch / tp if dp else batch) * tokens * kv_per_token
    moved = read_per_gpu + cache
    moe = (experts, k, expert, moe_layers, touched)
    comm = _comm_seconds(gpu, tp, dp, in_step, d, layers, moe)
    t_compute = _compute_seconds(gpu, flops, in_step, tp, dp, moe)
    kv_eff = gpu.get("kv_eff", gpu["memory_eff"])
    t_memory = read_per_gpu / (gpu["bandwidth"] * gpu["memory_eff"]) + cache / (
        gpu["bandwidth"] * kv_eff
    )
    seconds = max(t_compute, t_memory) + comm + gpu["overhead"]
    return seconds, flops, moved, comm, max_batch, t_memory > t_compute


def _comm_seconds(gpu: dict[str, float], tp: float, dp: bool, in_step: float, d: float,
                  layers: float, moe: tuple[float, ...]) -> float:  # fmt: skip
    """Seconds of a step's collectives per GPU: two ring all-reduces a layer, or under
    data-parallel attention two all-to-alls an MoE layer."""
    experts, k, _, moe_layers, _ = moe
    latency = gpu.get("latency", 0.0) if tp > 1 else 0.0
    if not (dp and tp > 1):
        return layers * 2 * ((2 * (tp - 1) / tp) * in_step * d * 2 / gpu["link"] + latency)
    # Each token to every other GPU holding one of its k experts, and back: a given GPU
    # (experts / tp of them) is missed with chance C(E - E/tp, k) / C(E, k).
    others = int(experts - experts // tp)
    missed = math.comb(others, int(k)) / math.comb(int(experts), int(k))
    sent = in_step / tp * (tp - 1) * (1 - missed) * d * 2
    return moe_layers * 2 * (sent / gpu["link"] + latency)


def _compute_seconds(gpu: dict[str, float], flops: float, in_step: float, tp: float, dp: bool,
                     moe: tuple[float, ...]) -> float:  # fmt: skip
    """Seconds of a GPU's `flops`: matmuls of m rows at `m / (m + gemm_half)` of the
    compute fraction, m a GPU's own rows, and each routed expert's only its own tokens,
    in_step k / (experts reached)."""
    _, k, expert, moe_layers, touched = moe
    half = gpu.get("gemm_half", 0.0)
    peak = gpu["peak"] * gpu["compute"]
    routed = 2 * in_step * k * expert * moe_layers / tp
    per_expert = in_step * k / touched if moe_layers else in_step
    own = in_step / tp if dp else in_step
    return (flops - routed) / (peak * own / (own + half)) + routed / (
        peak * per_expert / (per_expert + half)
    )


def physical_optimum(
    law: Law,
    target: float,
    requests: float,
    per_flop: float,
    ln_params: list[float],
    ln_dollars: list[float],
) -> tuple[float, float, float] | None:
    """(N, D, dollars) minimising `6 per_flop N D + requests s(N)` at `L(N, D) = target`,
    `s` the log-log line through the knots; None when the cheapest point of the curve's
    span is an end knot the cost still falls beyond. Exhaustive: every reachable knot, and
    every segment where the derivative changes sign is bisected (the Rust core prunes
    segments by tangent bounds and uses Newton).

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    target : float
        The loss, in nats/token; above E.
    requests : float
        Lifetime requests (count).
    per_flop : float
        Training US dollars per model FLOP (`train_dollars_per_flop / train_mfu`).
    ln_params, ln_dollars : list of float
        The serving curve's knots: ln N, and ln US dollars per request at each.

    Returns
    -------
    tuple of float or None
        N (count), D (training tokens) and lifetime US dollars; None as above.

    Examples
    --------
    >>> import math
    >>> import scaleplan as sp
    >>> costs = sp.CostModel()
    >>> per_flop = costs.train_dollars_per_flop / costs.train_mfu
    >>> curve = sp.ServingCurve([1e9, 1e11], [1e-5, 1e-3])  # $ per request, linear in N
    >>> n, d, dollars = physical_optimum(sp.CHINCHILLA.coefficients, 2.0, 1e10, per_flop,
    ...                                  [math.log(1e9), math.log(1e11)],
    ...                                  [math.log(1e-5), math.log(1e-3)])
    >>> rust = sp.physical_optimal(2.0, 1e10, curve=curve, costs=costs)
    >>> print(f"N = {n:.4g}, ${dollars:,.0f}; package: N = {rust.params:.4g}, "
    ...       f"${rust.total_dollars:,.0f}")
    N = 6.571e+09, $1,164,966; package: N = 6.571e+09, $1,164,966
    """
    e, a, b, alpha, beta = law
    x_min = math.log(a / (target - e)) / alpha

    def parts(x: float, k: int) -> tuple[float, float]:
        """(dollars, d dollars / d ln N) on segment k's line."""
        n = math.exp(x)
        reducible = target - e - a * n**-alpha
        d = (b / reducible) ** (1.0 / beta)
        train = 6.0 * per_flop * n * d
        # d ln D / d ln N = -(alpha / beta) A N^-alpha / (l - E - A N^-alpha)
        dln_d = -(alpha / beta) * a * n**-alpha / reducible
        slope = (ln_dollars[k + 1] - ln_dollars[k]) / (ln_params[k + 1] - ln_params[k])
        serve = requests * math.exp(ln_dollars[k] + slope * (x - ln_params[k]))
        return train + serve, train * (1.0 + dln_d) + serve * slope

    last = len(ln_params) - 2
    found: list[tuple[float, float]] = []  # (dollars, x)
    for k in range(last + 1):
        lo, hi = max(ln_params[k], x_min), ln_params[k + 1]
        if hi <= x_min:
            continue
        if lo > x_min:
            found.append((parts(lo, k)[0], lo))
        found.append((parts(hi, k)[0], hi))
        falling = lo == x_min or parts(lo, k)[1] < 0
        if falling and parts(hi, k)[1] > 0:
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if mid in (lo, hi):
                    break
                lo, hi = (mid, hi) if parts(mid, k)[1] < 0 else (lo, mid)
            found.append((parts(0.5 * (lo + hi), k)[0], 0.5 * (lo + hi)))
    if not found:
        return None
    dollars, x = min(found)
    outward = (x == ln_params[-1] and parts(x, last)[1] < 0) or (
        x == ln_params[0] and x > x_min and parts(x, 0)[1] > 0
    )
    if outward:
        return None
    n = math.exp(x)
    return n, (b / (target - e - a * n**-alpha)) ** (1.0 / beta), dollars
