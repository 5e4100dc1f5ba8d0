"""Pure-Python reference implementations (standard library `math` only).

They are the oracle the tests check the Rust core against and the baseline the benchmarks
measure it against. They are derived independently of the Rust code: the lifetime solver
here iterates on the design's `x = ln D` form with a log-sum-exp, where Rust iterates on a
shifted variable with a softplus. Nothing imports them as a fallback.

Laws are tuples `(E, A, B, alpha, beta)`.
"""

from __future__ import annotations

import math
from typing import Any

Law = tuple[float, float, float, float, float]


def loss(law: Law, params: float, tokens: float) -> float:
    """`E + A N^-alpha + B D^-beta`."""
    e, a, b, alpha, beta = law
    return e + a * params**-alpha + b * tokens**-beta


def chinchilla_for_compute(law: Law, flops: float) -> tuple[float, float]:
    """(N, D) minimising the loss at `6 N D = flops`, by the Lagrange conditions
    `alpha A N^-alpha = beta B D^-beta` and `N D = C / 6`."""
    _, a, b, alpha, beta = law
    # ln N (alpha + beta) = ln(alpha A / (beta B)) + beta ln(C/6)
    ln_c6 = math.log(flops / 6.0)
    ln_n = (math.log(alpha * a / (beta * b)) + beta * ln_c6) / (alpha + beta)
    return math.exp(ln_n), math.exp(ln_c6 - ln_n)


def chinchilla_tokens_for_params(law: Law, params: float) -> float:
    """D with `alpha A N^-alpha = beta B D^-beta`."""
    _, a, b, alpha, beta = law
    return math.exp((math.log(beta * b / (alpha * a)) + alpha * math.log(params)) / beta)


def chinchilla_for_loss(law: Law, target: float) -> tuple[float, float]:
    """(N, D) of the cheapest-to-train model reaching `target`: with the stationarity
    condition, `A N^-alpha = (beta/alpha) B D^-beta`, so `B D^-beta (1 + beta/alpha) = l - E`."""
    e, a, b, alpha, beta = law
    ln_d = (math.log(b * (1.0 + beta / alpha)) - math.log(target - e)) / beta
    ln_n = (math.log(alpha * a / (beta * b)) + beta * ln_d) / alpha
    return math.exp(ln_n), math.exp(ln_d)


def _logaddexp(u: float, v: float) -> float:
    hi, lo = max(u, v), min(u, v)
    if lo == -math.inf:
        return hi
    return hi + math.log1p(math.exp(lo - hi))


def lifetime_log_optimum(
    law: Law, target: float, demand: float, *, tol: float = 1e-15, max_iter: int = 200
) -> tuple[float, float, int]:
    """(ln N, ln D, iterations) minimising `6 N D + 2 N demand` at `L(N, D) = target`.

    With `x = ln D`, `P = B (1 + beta/alpha)`, `Q = beta B demand / (3 alpha)` and
    `c = target - E`, the optimum solves `g(x) = ln(P e^(-beta x) + Q e^(-(beta+1) x)) - ln c = 0`.
    g is convex and decreasing; every term of the sum is at most c at the root, so
    `x0 = max(ln(P/c)/beta, ln(Q/c)/(beta+1))` lies left of it and `x0 + ln 2 / beta` right
    of it. Newton runs from x0, kept inside that bracket by bisection.
    """
    e, a, b, alpha, beta = law
    c = target - e
    if not c > 0:
        raise ValueError("target loss must exceed E")
    ln_p = math.log(b * (1.0 + beta / alpha))
    ln_c = math.log(c)
    iterations = 0
    if demand == 0:
        x = (ln_p - ln_c) / beta
    else:
        ln_q = math.log(beta * b * demand / (3.0 * alpha))
        lo = max((ln_p - ln_c) / beta, (ln_q - ln_c) / (beta + 1.0))
        hi = lo + math.log(2.0) / beta
        x = lo
        for iterations in range(1, max_iter + 1):  # noqa: B007
            u, v = ln_p - beta * x, ln_q - (beta + 1.0) * x
            lse = _logaddexp(u, v)
            g = lse - ln_c
            if g > 0:
                lo = x
            else:
                hi = x
            w = math.exp(v - lse)  # share of the Q term
            slope = -(beta + w)
            step = -g / slope
            x_new = x + step
            if not lo <= x_new <= hi:
                x_new = 0.5 * (lo + hi)
            if abs(x_new - x) <= tol * max(1.0, abs(x)):
                x = x_new
                break
            x = x_new
    # A N^-alpha = (beta B / alpha) D^-beta (1 + demand / (3 D))
    extra = 0.0 if demand == 0 else _logaddexp(0.0, math.log(demand / 3.0) - x)
    ln_n = (math.log(a) - math.log(beta * b / alpha) + beta * x - extra) / alpha
    return ln_n, x, iterations


def lifetime_optimum(law: Law, target: float, demand: float) -> tuple[float, float]:
    """(N, D) of `lifetime_log_optimum`."""
    ln_n, ln_d, _ = lifetime_log_optimum(law, target, demand)
    return math.exp(ln_n), math.exp(ln_d)


def eq12_residual(law: Law, target: float, demand: float, tokens: float) -> float:
    """`(E - l) + B (1 + beta/alpha) D^-beta + (beta B demand / (3 alpha)) D^(-beta-1)`,
    relative to the largest of its terms."""
    e, _, b, alpha, beta = law
    p = b * (1.0 + beta / alpha) * tokens**-beta
    q = beta * b * demand / (3.0 * alpha) * tokens ** (-beta - 1.0)
    return abs(e - target + p + q) / max(target - e, p, q)


def huber(r: float, delta: float) -> tuple[float, float]:
    """The Huber function at `r` and its slope: `r^2 / 2` inside `|r| <= delta`, else
    `delta (|r| - delta / 2)`."""
    if abs(r) <= delta:
        return r * r / 2.0, r
    return delta * abs(r) - delta * delta / 2.0, math.copysign(delta, r)


def huber_lse_objective(
    theta: tuple[float, float, float, float, float],
    params: list[float],
    tokens: list[float],
    losses: list[float],
    delta: float = 1e-3,
) -> tuple[float, list[float]]:
    """Summed Huber loss of `log(exp(a - alpha ln N) + exp(b - beta ln D) + exp(e)) - ln L`
    and its gradient in (a, b, e, alpha, beta), written directly from the definitions."""
    a, b, e, alpha, beta = theta
    total = 0.0
    grad = [0.0] * 5
    for n, d, loss in zip(params, tokens, losses, strict=True):
        u1 = a - alpha * math.log(n)
        u2 = b - beta * math.log(d)
        top = max(u1, u2, e)
        z = math.exp(u1 - top) + math.exp(u2 - top) + math.exp(e - top)
        r = top + math.log(z) - math.log(loss)
        h, slope = huber(r, delta)
        total += h
        p1, p2, p3 = (math.exp(u - top) / z for u in (u1, u2, e))
        grad[0] += slope * p1
        grad[1] += slope * p2
        grad[2] += slope * p3
        grad[3] += -slope * p1 * math.log(n)
        grad[4] += -slope * p2 * math.log(d)
    return total, grad


def step_counts(
    vocab: int,
    d_model: int,
    n_layers: int,
    n_heads: int,
    head_dim: int,
    n_kv_heads: int,
    d_ff: int,
    gated: bool,
    tied: bool,
    seq_len: int,
    batch_size: int,
    extra_params: int = 0,
) -> tuple[float, float, float, float]:
    """(params, flops, memcpy elements, activation elements) of one training step, built
    op by op from a list of (flops, elements read, elements written) the way the forward
    pass runs; backward is twice the forward, Adam moves 8 elements per parameter."""
    # Plain arithmetic only (flags as 0/1), so NumPy arrays work too: the benchmark's
    # vectorised baseline is this same function.
    t = batch_size * seq_len
    q, kv = n_heads * head_dim, n_kv_heads * head_dim
    up_width = (1 + gated) * d_ff
    scores = batch_size * n_heads * seq_len * seq_len

    def matmul(rows: Any, inner: Any, cols: Any) -> tuple[Any, Any, Any]:
        return 2.0 * rows * inner * cols, rows * inner + inner * cols, rows * cols

    def elementwise(inputs: Any, outputs: Any) -> tuple[Any, Any, Any]:
        return 0.0, inputs, outputs

    layer = [
        elementwise(t * d_model + d_model, t * d_model),  # attention RMSNorm
        matmul(t, d_model, q + 2 * kv),  # Q, K, V
        (2.0 * scores * head_dim, t * q + t * kv, scores),  # Q K^T
        elementwise(scores, scores),  # softmax
        (2.0 * scores * head_dim, scores + t * kv, t * q),  # P V
        matmul(t, q, d_model),  # output projection
        elementwise(2 * t * d_model, t * d_model),  # residual
        elementwise(t * d_model + d_model, t * d_model),  # MLP RMSNorm
        matmul(t, d_model, up_width),  # up (and gate)
        elementwise(up_width * t, t * d_ff),  # activation (times gate)
        matmul(t, d_ff, d_model),  # down
        elementwise(2 * t * d_model, t * d_model),  # residual
    ]
    head = [
        elementwise(t * d_model, t * d_model),  # embedding gather
        elementwise(t * d_model + d_model, t * d_model),  # final RMSNorm
        matmul(t, d_model, vocab),  # logits
        elementwise(t * vocab, t * vocab + t),  # softmax cross-entropy
    ]

    def total(ops: list[tuple[Any, Any, Any]], k: int) -> Any:
        return sum(op[k] for op in ops)

    flops = 3.0 * (n_layers * total(layer, 0) + total(head, 0))
    params = 1.0 * (
        n_layers
        * (d_model * (q + 2 * kv) + q * d_model + (up_width + d_ff) * d_model + 2 * d_model)
        + (2 - tied) * vocab * d_model
        + d_model
        + extra_params  # biases, learned positions: stored and updated, no FLOPs
    )
    moved = 3.0 * (n_layers * (total(layer, 1) + total(layer, 2)) + total(head, 1) + total(head, 2))
    kept = 1.0 * (n_layers * total(layer, 2) + total(head, 2))
    return params, flops, moved + 8.0 * params, kept


def best_quality(law: Law, budget: float, effective_demand: float) -> tuple[float, float]:
    """(N, D) with the lowest loss on the budget curve `N (D + m) = budget`, `m =
    effective_demand / 3` (the budget in units of the training cost, FLOPs / 6).

    Derived apart from the Rust core, which solves an equation in the logit of the
    inference share: here the loss is minimised directly over `x = ln N`, by bisection on
    the sign of `dL/dx = -alpha A e^(-alpha x) + beta B D^(-beta - 1) C e^(-x)`, compared in
    logs, on `(-inf, ln(C / m))` where `D = C e^-x - m > 0`.
    """
    _, a, b, alpha, beta = law
    m = effective_demand / 3.0
    if m == 0.0:
        return chinchilla_for_compute(law, 6.0 * budget)
    ln_c = math.log(budget)
    x_hi = ln_c - math.log(m)

    def ln_tokens(x: float) -> float:
        return ln_c - x + math.log(-math.expm1(x - x_hi))

    def rising(x: float) -> bool:
        grow = math.log(beta * b) - (beta + 1.0) * ln_tokens(x) + ln_c - x
        return grow >= math.log(alpha * a) - alpha * x

    hi, width = x_hi, 1.0
    while rising(hi - width):
        hi, width = hi - width, 2.0 * width
    lo = hi - width
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if rising(mid) else (mid, hi)
    # The midpoint of two neighbouring floats can round onto the pole itself.
    x = min(0.5 * (lo + hi), lo if hi == x_hi else hi)
    return math.exp(x), math.exp(ln_tokens(x))


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
    latency (per all-reduce, optional),
    weight_bytes, kv_bytes. Counted matrix by matrix, apart from the Rust core's sums."""
    d, layers, heads = shape["d_model"], shape["n_layers"], shape["n_heads"]
    hd, kv_heads, vocab = shape["head_dim"], shape["n_kv_heads"], shape["vocab"]
    layer_matrices = [
        (d, heads * hd),  # Q
        (d, kv_heads * hd),  # K
        (d, kv_heads * hd),  # V
        (heads * hd, d),  # attention output
        (d, shape["d_ff"]),  # up
        (shape["d_ff"], d),  # down
    ] + ([(d, shape["d_ff"])] if shape["gated"] else [])  # gate
    per_token = layers * sum(a * b for a, b in layer_matrices) + vocab * d  # with logits
    norms = layers * 2 * d + d
    extra = shape.get("extra_params", 0)  # biases, position tables: read, no FLOPs
    stored = per_token + norms + extra + (0 if shape["tied"] else vocab * d)
    read = per_token + norms + extra
    kv_per_token = 2 * layers * math.ceil(kv_heads / tp) * hd * gpu["kv_bytes"]
    held = tokens + 1 if phase == "decode" else tokens
    room = gpu["memory"] * gpu["fraction"] - stored * gpu["weight_bytes"] / tp
    max_batch = math.floor(room / (held * kv_per_token))
    if phase == "decode":
        flops = 2 * batch * per_token + layers * batch * tokens * heads * hd * 4
        in_step = batch
    else:
        flops = 2 * batch * tokens * (per_token - vocab * d) + 2 * batch * vocab * d
        flops += layers * 2 * batch * tokens**2 * heads * hd
        in_step = batch * tokens
    flops /= tp
    moved = read * gpu["weight_bytes"] / tp + batch * tokens * kv_per_token
    latency = gpu.get("latency", 0.0) if tp > 1 else 0.0
    comm = layers * 2 * ((2 * (tp - 1) / tp) * in_step * d * 2 / gpu["link"] + latency)
    t_compute = flops / (gpu["peak"] * gpu["compute"])
    t_memory = moved / (gpu["bandwidth"] * gpu["memory_eff"])
    seconds = max(t_compute, t_memory) + comm + gpu["overhead"]
    return seconds, flops, moved, comm, max_batch, t_memory > t_compute


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
    segments by tangent bounds and uses Newton)."""
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


def data_constrained_loss(
    law: Law, rd_star: float, rn_star: float, n: float, d: float, u: float
) -> tuple[float, float, float]:
    """(L, dL/dN, dL/dD) of Muennighoff et al.'s law, written as their repository writes
    it (with U_s = min(U, D) as their `optimal_allocation` passes it); the derivatives by
    the chain rule in N and D themselves (the Rust core works in logs)."""
    e, a, b, alpha, beta = law
    seen = min(u, d)
    g = (alpha * a / (beta * b)) ** (1 / (alpha + beta))
    cap = (seen * g) ** (beta / alpha) * g  # D_to_N(U)
    dcap_dd = cap * beta / alpha / d if d < u else 0.0
    r_d = max(d / seen - 1, 0.0)
    d_eff = seen + seen * rd_star * (1 - math.exp(-r_d / rd_star))
    dd_eff = math.exp(-r_d / rd_star) if d > u else 1.0  # dD'/dD
    u_n = min(n, cap)
    r_n = max(n / u_n - 1, 0.0)
    n_eff = u_n + u_n * rn_star * (1 - math.exp(-r_n / rn_star))
    if n <= cap:
        dn_eff_dn, dn_eff_dd = 1.0, 0.0
    else:
        decay = math.exp(-r_n / rn_star)
        dn_eff_dn = decay
        # N' = cap (1 + R* (1 - exp(-(N/cap - 1)/R*))): d/dcap at fixed N.
        dn_eff_dcap = 1 + rn_star * (1 - decay) - decay * n / cap
        dn_eff_dd = dn_eff_dcap * dcap_dd
    loss_ = e + a * n_eff**-alpha + b * d_eff**-beta
    dl_dneff = -alpha * a * n_eff ** (-alpha - 1)
    dl_dn = dl_dneff * dn_eff_dn
    dl_dd = dl_dneff * dn_eff_dd - beta * b * d_eff ** (-beta - 1) * dd_eff
    return loss_, dl_dn, dl_dd
