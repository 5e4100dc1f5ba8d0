"""Measure real training-step times of small transformers (optional extra `[measure]`: JAX).

A minimal decoder-only transformer of a given `TransformerShape` (RMSNorm, causal
grouped-query attention, gated-SiLU or GELU MLP, untied or tied logits, cross-entropy) and
a plain Adam step, compiled with `jax.jit`; each shape's step is timed after warm-up as the
median of repeats. `sweep` writes a CSV that `load_measurements` and `fit_step_time` read
(`scaleplan measure OUT` runs the default sweep).
Runs on whatever device JAX finds (the CPU here).
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import numpy as np

from .._utils.files import read_text_file
from ..arch.shapes import resolve_shape
from ..errors import ScaleplanError
from .steptime import FIELDS, TransformerShape

__all__ = ["COLUMNS", "default_sweep", "load_measurements", "sweep", "time_step"]

COLUMNS = (*FIELDS, "seconds", "device")


def _require_jax() -> Any:
    try:
        import jax
    except ImportError:  # the extra is optional; say how to get it
        raise ImportError(
            "scaleplan.systems.measure needs JAX: pip install 'scaleplan[measure]'", name="jax"
        ) from None
    return jax


def _init(shape: TransformerShape, key: Any) -> dict[str, Any]:
    jax = _require_jax()
    jnp = jax.numpy
    d, f, hd = shape.d_model, shape.d_ff, shape.head_dim
    h, kv = shape.n_heads, shape.n_kv_heads
    keys = iter(jax.random.split(key, 4 + 6 * shape.n_layers))

    def w(*dims: int) -> Any:
        return jax.random.normal(next(keys), dims, jnp.float32) * dims[0] ** -0.5

    layers = []
    for _ in range(shape.n_layers):
        layer = {
            "norm1": jnp.ones(d),
            "norm2": jnp.ones(d),
            "wq": w(d, h * hd),
            "wkv": w(d, 2 * kv * hd),
            "wo": w(h * hd, d),  # type: ignore[operator]
            "up": w(d, (2 if shape.gated else 1) * f),
            "down": w(f, d),  # type: ignore[operator]
        }
        layers.append(layer)
    params = {"embed": w(shape.vocab, d), "norm": jnp.ones(d), "layers": layers}
    if not shape.tied:
        params["unembed"] = w(d, shape.vocab)
    return params


def _loss_fn(shape: TransformerShape) -> Any:
    jax = _require_jax()
    jnp = jax.numpy
    h, kv, hd = shape.n_heads, shape.n_kv_heads, shape.head_dim
    S = shape.seq_len

    def rms(x: Any, g: Any) -> Any:
        return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + 1e-6) * g

    def loss(params: Any, tokens: Any, targets: Any) -> Any:
        x = params["embed"][tokens]
        B = x.shape[0]
        mask = jnp.tril(jnp.ones((S, S), bool))
        for p in params["layers"]:
            y = rms(x, p["norm1"])
            q = (y @ p["wq"]).reshape(B, S, kv, h // kv, hd)  # type: ignore[operator]
            k, v = jnp.split((y @ p["wkv"]).reshape(B, S, 2 * kv, hd), 2, axis=2)  # type: ignore[operator]
            s = jnp.einsum("bqkgd,bskd->bkgqs", q, k) * hd**-0.5  # type: ignore[operator]
            a = jax.nn.softmax(jnp.where(mask, s, -1e9), axis=-1)
            o = jnp.einsum("bkgqs,bskd->bqkgd", a, v).reshape(B, S, h * hd)  # type: ignore[operator]
            x = x + o @ p["wo"]
            y = rms(x, p["norm2"]) @ p["up"]
            if shape.gated:
                gate, up = jnp.split(y, 2, axis=-1)
                y = jax.nn.silu(gate) * up
            else:
                y = jax.nn.gelu(y)
            x = x + y @ p["down"]
        x = rms(x, params["norm"])
        logits = x @ (params["embed"].T if shape.tied else params["unembed"])
        logp = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, targets[..., None], axis=-1))

    return loss


def _train_step(shape: TransformerShape) -> Any:
    jax = _require_jax()
    jnp = jax.numpy
    grad = jax.value_and_grad(_loss_fn(shape))
    b1, b2, lr, eps = 0.9, 0.95, 1e-3, 1e-8

    def step(params: Any, m: Any, v: Any, tokens: Any, targets: Any) -> Any:
        value, g = grad(params, tokens, targets)
        m = jax.tree.map(lambda m_, g_: b1 * m_ + (1 - b1) * g_, m, g)
        v = jax.tree.map(lambda v_, g_: b2 * v_ + (1 - b2) * g_ * g_, v, g)
        params = jax.tree.map(lambda p, m_, v_: p - lr * m_ / (jnp.sqrt(v_) + eps), params, m, v)
        return params, m, v, value

    return jax.jit(step, donate_argnums=(0, 1, 2))


def time_step(
    shape: TransformerShape | str, *, warmup: int = 2, repeats: int = 5, seed: int = 0
) -> float:
    """Median seconds of one training step (forward, backward, Adam) after `warmup` steps.

    The step is `shape`'s decoder-only transformer (the module's docstring) on a batch of
    `batch_size` random sequences of `seq_len` tokens, compiled by `jax.jit` and run on
    JAX's first device.

    Parameters
    ----------
    shape : TransformerShape or str
        The model and its batch (`batch_size`, `seq_len`); a model name or an HF
        `config.json` path is resolved (`arch.shapes.resolve_shape`).
    warmup : int, optional
        Steps run untimed first, compilation included (default 2).
    repeats : int, optional
        Steps timed; the median is returned (default 5).
    seed : int, optional
        Seeds the weights and the tokens (default 0).

    Returns
    -------
    float
        Seconds per step (wall clock, this machine).

    Raises
    ------
    ImportError
        If JAX is not installed (the `[measure]` extra).

    Examples
    --------
    It needs JAX (`pip install 'scaleplan[measure]'`) and compiles the model (seconds),
    so this is not run here:

    >>> from scaleplan import TransformerShape
    >>> shape = TransformerShape(d_model=64, n_layers=2, n_heads=4, vocab=512,
    ...                          seq_len=32, batch_size=2)
    >>> seconds = time_step(shape, repeats=3)  # doctest: +SKIP
    >>> 0 < seconds < 1  # doctest: +SKIP
    True
    """
    shape = cast(TransformerShape, resolve_shape(shape))  # a model name or HF config too
    if shape.moe_layers or shape.kv_lora_rank or shape.v_head_dim != shape.head_dim:
        # The JAX step below builds a dense model with ordinary attention.
        raise ScaleplanError(
            "time_step measures dense shapes with ordinary attention; this one has experts "
            "or latent attention, which the measured model does not build",
            "shape",
        )
    jax = _require_jax()
    jnp = jax.numpy
    key = jax.random.PRNGKey(seed)
    params = _init(shape, key)
    m = jax.tree.map(jnp.zeros_like, params)
    v = jax.tree.map(jnp.zeros_like, params)
    tokens = jax.random.randint(key, (shape.batch_size, shape.seq_len), 0, shape.vocab)
    targets = jnp.roll(tokens, -1, axis=1)
    step = _train_step(shape)
    for _ in range(warmup):
        params, m, v, value = step(params, m, v, tokens, targets)
    value.block_until_ready()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        params, m, v, value = step(params, m, v, tokens, targets)
        value.block_until_ready()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sweep(
    shapes: Iterable[TransformerShape | str],
    path: str | Path,
    *,
    warmup: int = 2,
    repeats: int = 5,
    seed: int = 0,
) -> Path:
    """Time every shape (`time_step`) and write one CSV row each: the shape's fields, the
    median seconds per step and JAX's device platform (`COLUMNS`).

    Parameters
    ----------
    shapes : iterable of TransformerShape or str
        The shapes to time, or model names / HF config paths (`default_sweep()` is what
        `scaleplan measure` runs).
    path : str or pathlib.Path
        The CSV to write (overwritten); rows are flushed as they are timed.
    warmup, repeats, seed : int, optional
        As `time_step` (defaults 2, 5, 0).

    Returns
    -------
    pathlib.Path
        `path`, which `load_measurements` reads.

    Raises
    ------
    ImportError
        If JAX is not installed (the `[measure]` extra).

    Examples
    --------
    It needs JAX and compiles each shape (seconds each), so this is not run here:

    >>> out = sweep(default_sweep()[:3], "steps.csv", repeats=3)  # doctest: +SKIP
    >>> shapes, seconds = load_measurements(out)  # doctest: +SKIP
    >>> len(shapes)  # doctest: +SKIP
    3
    """
    jax = _require_jax()
    device = str(jax.devices()[0].platform)
    path = Path(path)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for s in map(resolve_shape, shapes):
            seconds = time_step(s, warmup=warmup, repeats=repeats, seed=seed)
            writer.writerow([int(getattr(s, f)) for f in FIELDS] + [f"{seconds:.6g}", device])
            fh.flush()
    return path


def load_measurements(path: str | Path | None = None) -> tuple[list[TransformerShape], np.ndarray]:
    """Shapes and measured seconds per step from a sweep CSV, as `fit_step_time` takes them.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A CSV that `sweep` wrote (default: the one shipped, the 72 shapes of
        `default_sweep` measured on this project's 2-core CPU machine; see the README).
        Columns added after a file was written take their defaults.

    Returns
    -------
    shapes : list of TransformerShape
        One per row.
    seconds : numpy.ndarray
        Seconds per training step, one per row.

    Raises
    ------
    ScaleplanError
        If `path` cannot be read (naming it).

    Examples
    --------
    >>> shapes, seconds = load_measurements()
    >>> len(shapes), f"{seconds.min() * 1e3:.2f} to {seconds.max():.2f} s"
    (72, '2.38 to 1.36 s')
    >>> from scaleplan.systems.steptime_fit import fit_step_time
    >>> print(f"R2 {fit_step_time(shapes, seconds).r2_both:.3f}")
    R2 0.938
    """
    if path is None:
        from importlib import resources

        text = resources.files("scaleplan").joinpath("data", "steptime_cpu.csv").read_text()
    else:
        text = read_text_file(path, "path")
    rows = list(csv.DictReader(text.splitlines()))
    # Files written before a field existed lack its column: it takes its default.
    shapes = [TransformerShape(**{f: _field(f, r[f]) for f in FIELDS if f in r}) for r in rows]
    return shapes, np.array([float(r["seconds"]) for r in rows])


def _field(name: str, text: str) -> int | bool:
    return bool(int(text)) if name in ("gated", "tied") else int(text)


def default_sweep() -> list[TransformerShape]:
    """72 small shapes (seconds each to compile and time on a 2-core CPU) varying width,
    depth, heads, MLP width, sequence and batch: what `scaleplan measure` times.

    Drawn from a fixed seed, so every call gives the same list (the shipped measurements'
    shapes).

    Returns
    -------
    list of TransformerShape

    Examples
    --------
    >>> shapes = default_sweep()
    >>> len(shapes), shapes[0].d_model, shapes[0].n_layers, shapes[0].seq_len
    (72, 384, 3, 128)
    >>> shapes == load_measurements()[0]
    True
    """
    rng = np.random.default_rng(2026)
    out: list[TransformerShape] = []
    while len(out) < 72:
        d = int(rng.choice([64, 128, 192, 256, 384]))
        heads = [h for h in (1, 2, 4, 8, 16) if d % h == 0 and d // h >= 16]
        h = int(rng.choice(heads))
        kv = int(rng.choice([k for k in (1, 2, h) if h % k == 0]))
        out.append(
            TransformerShape(
                d_model=d,
                n_layers=int(rng.choice([1, 2, 3, 4])),
                n_heads=h,
                n_kv_heads=kv,
                d_ff=int(d * rng.choice([1.0, 2.0, 8 / 3, 4.0])),
                vocab=int(rng.choice([512, 1024, 2048, 4096])),
                gated=bool(rng.integers(2)),
                tied=bool(rng.integers(2)),
                seq_len=int(rng.choice([32, 64, 128, 256])),
                batch_size=int(rng.choice([1, 2, 4, 8])),
            )
        )
    return out


if __name__ == "__main__":  # the 0.1 way to run the sweep; the command line has it now
    raise SystemExit("python -m scaleplan.systems.measure OUT is now: scaleplan measure OUT")
