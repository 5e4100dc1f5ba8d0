"""The cost model: hardware, precision, price and utilisation of training, prefill and
decode, validated once, and the dollars per peak FLOP and demand weights derived from them.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.arrays import as_float, check_on_invalid
from .._utils.checks import NON_NEGATIVE, POSITIVE, Span, choice, first_bad, number, renamed
from .._utils.frames import value_repr
from ..errors import ScaleplanError
from .accelerators import Accelerator, accelerator
from .formats import FORMATS, PRECISIONS

__all__ = [
    "DEFAULT_INPUT_TOKENS",
    "DEFAULT_OUTPUT_TOKENS",
    "MFU",
    "MIN_MFU",
    "SECONDS_PER_HOUR",
    "CostModel",
    "default_costs",
    "resolve_costs",
]

SECONDS_PER_HOUR = 3600.0
# Mean prompt and completion lengths of LMSYS-Chat-1M (Zheng et al. 2023), used by the paper.
DEFAULT_INPUT_TOKENS = 70.0
DEFAULT_OUTPUT_TOKENS = 215.0


# Lowest MFU accepted. Below it no deployment is meant, and an MFU near the bottom of
# the float range (5e-324 was tried) turns dollars per token into inf.
MIN_MFU = 1e-6


MFU = Span(MIN_MFU, 1.0, low_closed=True, high_closed=True)


def _fraction(name: str, value: Any) -> float:
    return number(name, value, MFU)


@functools.cache
def default_costs() -> CostModel:
    """The default cost model, built once.

    It is frozen and the catalogue it reads (`ACCELERATORS`) is read-only, so every call
    can share it.

    Returns
    -------
    CostModel
        `CostModel()`: the paper's Figure 6 / Table 3 setting.

    Examples
    --------
    >>> from scaleplan.hardware.cost_model import default_costs
    >>> default_costs().decode_mfu
    0.01
    """
    return CostModel()


def resolve_costs(costs: Any) -> CostModel:
    """`costs` as a CostModel: None means the default one.

    Anything else is refused (a string once failed deep inside with AttributeError, and 0
    silently meant the default).

    Parameters
    ----------
    costs : CostModel or None

    Returns
    -------
    CostModel

    Raises
    ------
    ScaleplanError
        If `costs` is neither a CostModel nor None.

    Examples
    --------
    >>> from scaleplan.hardware.cost_model import default_costs, resolve_costs
    >>> resolve_costs(None) is default_costs()
    True
    """
    if costs is None:
        return default_costs()
    if isinstance(costs, CostModel):
        return costs
    raise ScaleplanError(
        f"costs must be a CostModel or None; got {costs!r} "
        f"(for example CostModel(train_gpu='h100-sxm', inference_gpu='h100-sxm'))",
        "costs",
    )


@dataclass(frozen=True)
class CostModel:
    """Hardware, precision, price and utilisation of training, prefill and decode.

    The defaults are the paper's Figure 6 / Table 3 setting: train on A100-80GB in bf16 at
    50% MFU, serve on A100-40GB in int8 at 50% MFU for prompt tokens and 1% for generated
    tokens, at the catalogue's prices. From them come the dollars per peak FLOP of each
    phase, `c = price / (3600 peak)`, and the demand weights that turn requests into
    training-token equivalents, `w_in = (c_inf / c_tr) (train_mfu / prefill_mfu)` and
    `w_out = (c_inf / c_tr) (train_mfu / decode_mfu)`.

    Parameters
    ----------
    train_gpu, inference_gpu : Accelerator or str, optional
        The chips, or catalogue names (defaults "a100-80gb" and "a100-40gb").
    train_precision, inference_precision : str, optional
        Number formats the chips run at (defaults "bf16" and "int8").
    train_price_per_hour, inference_price_per_hour : float, optional
        US dollars per GPU-hour; None takes the catalogue's price.
    train_mfu, prefill_mfu, decode_mfu : float, optional
        Model FLOP utilisation of each phase, a fraction in [1e-6, 1] (defaults 0.5, 0.5,
        0.01).

    Raises
    ------
    ScaleplanError
        If a chip is unknown or lacks the precision, a price is missing, not positive or so
        far from the other that the weights leave float64, or an MFU is outside [1e-6, 1].

    Examples
    --------
    >>> from scaleplan import CostModel
    >>> costs = CostModel()
    >>> w_in, w_out = costs.demand_weights
    >>> print(f"w_in = {w_in:.4g}, w_out = {w_out:.4g}")
    w_in = 0.3667, w_out = 18.33

    Serving on H100s at 5% decode MFU makes a generated token far cheaper:

    >>> costs = CostModel(train_gpu="h100-sxm", inference_gpu="h100-sxm", decode_mfu=0.05)
    >>> print(f"w_out = {costs.demand_weights[1]:.4g}")
    w_out = 4.997
    """

    __repr__ = value_repr  # short: nested GPUs by name, numbers to four digits

    train_gpu: Accelerator | str = "a100-80gb"
    inference_gpu: Accelerator | str = "a100-40gb"
    train_precision: str = "bf16"
    inference_precision: str = "int8"
    train_price_per_hour: float | None = None
    inference_price_per_hour: float | None = None
    train_mfu: float = 0.5
    prefill_mfu: float = 0.5
    decode_mfu: float = 0.01

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "train_gpu", accelerator(self.train_gpu, argument="train_gpu"))
        set_(self, "inference_gpu", accelerator(self.inference_gpu, argument="inference_gpu"))
        # Training computes in its format; serving may store weights in any (a weight-only
        # format computes in fp16, which `peak` resolves).
        set_(self, "train_precision", choice("train_precision", self.train_precision, PRECISIONS))
        set_(self, "inference_precision",
             choice("inference_precision", self.inference_precision, FORMATS))  # fmt: skip
        for phase in ("train", "inference"):
            gpu: Accelerator = getattr(self, f"{phase}_gpu")
            with renamed(precision=f"{phase}_precision"):
                gpu.peak(getattr(self, f"{phase}_precision"))  # an error if the chip lacks it
            price = getattr(self, f"{phase}_price_per_hour")
            if price is None:
                if gpu.price_per_hour is None:
                    raise ScaleplanError(
                        f"{phase}_price_per_hour is needed: {gpu.name} has no price",
                        f"{phase}_price_per_hour",
                    )
                price = gpu.price_per_hour
            need = f"{phase}_price_per_hour must be a finite number > 0"
            value = number(f"{phase}_price_per_hour", price, POSITIVE, unit="dollars")
            # Dollars per FLOP must be a normal float: a price near 5e-324 once made them 0
            # and every cost a division by zero.
            per_flop = value / (SECONDS_PER_HOUR * gpu.peak(getattr(self, f"{phase}_precision")))
            if per_flop < sys.float_info.min:
                raise ScaleplanError(
                    f"{need} and large enough to cost more than 0; got {price!r}",
                    f"{phase}_price_per_hour",
                )
            set_(self, f"{phase}_price_per_hour", value)
        for name in ("train_mfu", "prefill_mfu", "decode_mfu"):
            set_(self, name, _fraction(name, getattr(self, name)))
        # The two prices meet in the demand weights (a ratio of dollars per FLOP): a
        # weight outside the normal float64 range has no answer to give downstream.
        for w in self.demand_weights:
            if not POSITIVE.admits(w):
                name = "train_price_per_hour" if w < 1 else "inference_price_per_hour"
                raise ScaleplanError(
                    f"{name}: train_price_per_hour and inference_price_per_hour are too far "
                    f"apart: a token served costs {w:.3g} tokens of training",
                    name,
                )

    @classmethod
    def sardana2024_table3(cls) -> CostModel:
        """The setting that reproduces Table 3 of Sardana et al. 2024 (within 2.4%).

        The paper states A100-40GB inference at $1.10/h; its Table 3 comes out only with
        $1.00/h (with $1.10/h every cost is ~10% higher and the optimal models ~3% larger
        and ~7% shorter-trained). See the README.

        Returns
        -------
        CostModel
            The defaults with `inference_price_per_hour=1.00`.

        Examples
        --------
        >>> from scaleplan import CostModel
        >>> CostModel.sardana2024_table3().inference_price_per_hour
        1.0
        """
        return cls(inference_price_per_hour=1.00)

    @property
    def train_dollars_per_flop(self) -> float:
        """`c_tr`: dollars per peak FLOP of the training hardware at its precision."""
        gpu: Accelerator = self.train_gpu  # type: ignore[assignment]
        return self.train_price_per_hour / (SECONDS_PER_HOUR * gpu.peak(self.train_precision))  # type: ignore[operator]

    @property
    def inference_dollars_per_flop(self) -> float:
        """`c_inf`: dollars per peak FLOP of the inference hardware at its precision."""
        gpu: Accelerator = self.inference_gpu  # type: ignore[assignment]
        return self.inference_price_per_hour / (  # type: ignore[operator]
            SECONDS_PER_HOUR * gpu.peak(self.inference_precision)
        )

    def effective_demand(self, requests: Any, input_tokens: Any, output_tokens: Any) -> Any:
        """The demand in training-token equivalents: `requests (w_in input + w_out output)`.

        It makes the dollar problem the FLOP one.

        Parameters
        ----------
        requests : float or array_like
            Lifetime requests (count).
        input_tokens, output_tokens : float or array_like
            Prompt and generated tokens per request.

        Returns
        -------
        float or numpy.ndarray
            The effective demand D_eff, in training-token equivalents.

        Examples
        --------
        >>> from scaleplan import CostModel
        >>> print(f"{CostModel().effective_demand(1e9, 70, 215):.4g}")
        3.967e+12
        """
        w_in, w_out = self.demand_weights
        return as_float("requests", requests) * (
            w_in * as_float("input_tokens", input_tokens)
            + w_out * as_float("output_tokens", output_tokens)
        )

    def checked_demand(
        self, requests: Any, input_tokens: Any, output_tokens: Any, on_invalid: str = "raise"
    ) -> Any:
        """`effective_demand`, each input and the product checked.

        With `on_invalid="raise"` each input must be finite and >= 0 (an error names it
        and its row), and a demand beyond float64 is an error naming the three factors.
        With `on_invalid="nan"` a row with a negative or non-finite input, or a demand
        beyond float64, is NaN, for the kernel to mark (never a negative or infinite
        demand).

        Parameters
        ----------
        requests : float or array_like
            Lifetime requests (count).
        input_tokens, output_tokens : float or array_like
            Prompt and generated tokens per request.
        on_invalid : {"raise", "nan"}, optional

        Returns
        -------
        float or numpy.ndarray
            D_eff, in training-token equivalents.

        Raises
        ------
        ScaleplanError
            With `on_invalid="raise"`: a negative or non-finite input, or a demand beyond
            float64.

        Examples
        --------
        >>> from scaleplan import CostModel
        >>> CostModel().checked_demand([1e9, 1e307], 70, 215, on_invalid="nan")
        array([3.96733333e+12,            nan])
        >>> CostModel().checked_demand([1e9, -1.0], 70, 215)
        Traceback (most recent call last):
        ...
        scaleplan.errors.ScaleplanError: requests must be finite and >= 0; got -1.0 at index 1
        """
        on_invalid = check_on_invalid(on_invalid)
        named = {"requests": requests, "input_tokens": input_tokens,
                 "output_tokens": output_tokens}  # fmt: skip
        cols = {k: as_float(k, v) for k, v in named.items()}
        admitted = {k: NON_NEGATIVE.admits(arr) for k, arr in cols.items()}
        if on_invalid == "raise":
            for name, ok in admitted.items():
                if not np.all(ok):
                    # In the kernels' words: these columns went straight to Rust before.
                    raise first_bad(name, cols[name], ~ok, NON_NEGATIVE, "finite and >= 0")
        with np.errstate(over="ignore", invalid="ignore"):
            demand = np.asarray(self.effective_demand(requests, input_tokens, output_tokens))
        valid = np.broadcast_to(
            admitted["requests"] & admitted["input_tokens"] & admitted["output_tokens"],
            demand.shape,
        )
        huge = np.isinf(demand) & valid
        if on_invalid == "raise" and np.any(huge):
            i = int(np.flatnonzero(huge.ravel())[0])
            raise ScaleplanError(
                "requests must be small enough that the demand requests x (w_in input_tokens "
                f"+ w_out output_tokens) stays in float64{f' at index {i}' if demand.ndim else ''}"
                ": lower requests, input_tokens or output_tokens",
                "requests",
                i if demand.ndim else None,
            )
        demand = np.where(valid & ~huge, demand, np.nan)
        return demand.item() if demand.ndim == 0 else demand

    @functools.cached_property
    def demand_weights(self) -> tuple[float, float]:
        """`(w_in, w_out)`: training-token equivalents of one prompt and one generated token.

        Examples
        --------
        >>> from scaleplan import CostModel
        >>> [round(w, 3) for w in CostModel().demand_weights]
        [0.367, 18.333]
        """
        ratio = self.inference_dollars_per_flop / self.train_dollars_per_flop
        return ratio * self.train_mfu / self.prefill_mfu, ratio * self.train_mfu / self.decode_mfu
