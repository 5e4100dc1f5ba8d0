"""Number formats reach the roofline, the plans and the command line: 4-bit (NVFP4, MXFP4)
and weight-only formats read their own bytes and compute at their own peak, and a format
a GPU cannot run is refused by name."""

from __future__ import annotations

import json
import subprocess

import pytest

import scaleplan as sp
from scaleplan import serving
from scaleplan.arch.counts import step_counts
from scaleplan.hardware.formats import FORMATS, compute_precision, default_kv_format

SHAPE = "llama-3-8b"


def _weights_read(shape, bytes_per_weight):
    # Every weight but the input embedding (a lookup, not read whole).
    return (step_counts(shape).params - 128256 * 4096) * bytes_per_weight


@pytest.mark.parametrize(
    ("fmt", "bits", "gpu", "compute"),
    [
        ("fp4", 4.5, "b200", "fp4"),  # e2m1 + an e4m3 scale per 16
        ("mxfp4", 4.25, "gb200", "fp4"),  # e2m1 + an e8m0 scale per 32
        ("w4a16", 4.25, "h100-sxm", "fp16"),  # int4 + 16-bit scale and zero per 128
        ("w8a16", 8.0, "a100-80gb", "fp16"),
    ],
)
def test_a_format_reads_its_bits_and_computes_at_its_peak(fmt, bits, gpu, compute):
    acc = sp.ACCELERATORS[gpu]
    # Batch 1 at no context: the step reads the weights and no cache; a long prefill is
    # compute-bound, at the compute precision's peak.
    step = serving.decode(SHAPE, gpu, precision=fmt, efficiency=serving.IDEAL)
    assert step.bytes == pytest.approx(_weights_read(SHAPE, bits / 8), rel=1e-12)
    long = serving.prefill(SHAPE, gpu, prompt_tokens=8192, precision=fmt, efficiency=serving.IDEAL)
    assert long.bound == "compute"
    assert long.seconds == pytest.approx(long.flops / acc.peak_flops[compute], rel=1e-12)
    assert compute_precision(fmt) == compute


def test_the_default_cache_is_fp8_under_4_bit_weights_and_fp16_under_weight_only():
    at = dict(context_tokens=4096, efficiency=serving.IDEAL)
    for fmt, kv in (("fp4", "fp8"), ("mxfp4", "fp8"), ("w4a16", "fp16"), ("fp8", "fp8")):
        gpu = "b200" if "fp4" in fmt else "h100-sxm"
        assert default_kv_format(fmt) == kv
        implicit = serving.decode(SHAPE, gpu, precision=fmt, **at)
        explicit = serving.decode(SHAPE, gpu, precision=fmt, kv_precision=kv, **at)
        assert implicit == explicit


def test_4_bit_weights_let_a_70b_model_decode_on_one_gpu_where_16_bit_do_not():
    with pytest.raises(ValueError) as err:
        serving.decode("llama-3-70b", "b200", precision="bf16", context_tokens=4096, batch_size=64)
    assert err.value.argument in ("batch_size", "tensor_parallel")
    step = serving.decode("llama-3-70b", "b200", precision="fp4", context_tokens=4096,
                          batch_size=64)  # fmt: skip
    assert step.max_batch_size > 64


def test_formats_a_gpu_cannot_run_are_refused_by_name():
    with pytest.raises(ValueError, match="h100-sxm has no 'fp4' peak .*'mxfp4' computes in fp4"):
        serving.decode(SHAPE, "h100-sxm", precision="mxfp4")
    with pytest.raises(ValueError, match="kv_precision must be one of") as err:
        sp.Deployment(precision="w4a16", kv_precision="w4a16")
    assert err.value.argument == "kv_precision"
    with pytest.raises(ValueError, match="precision must be one of") as err:
        sp.Deployment(precision="int4")
    assert err.value.argument == "precision"
    with pytest.raises(ValueError, match="a100-80gb has no 'fp4' peak"):
        sp.Training("a100-80gb", precision="fp4")


def test_every_format_names_its_bytes_and_compute_precision():
    for name, (nbytes, compute) in FORMATS.items():
        assert 0 < nbytes <= 2 and compute in sp.hardware.accelerators.PRECISIONS, name


def test_new_catalogue_entries_carry_dated_sources_and_prices():
    for name in ("gh200", "gb200", "l4", "mi325x", "mi355x"):
        acc = sp.ACCELERATORS[name]
        assert "2026" in acc.source, name
        if acc.price_per_hour is not None:
            assert "2026" in acc.price_source, name
    assert sp.ACCELERATORS["mi355x"].price_per_hour is None  # none published that we read
    with pytest.raises(ValueError, match="mi325x has no link_bandwidth") as err:
        serving.decode("llama-3-70b", "mi325x", tensor_parallel=2)
    assert err.value.argument == "tensor_parallel"
    # A GPU without a price plans with the user's price, and is refused without one.
    with pytest.raises(ValueError, match="inference_price_per_hour is needed: mi355x"):
        sp.CostModel(inference_gpu="mi355x")
    assert sp.CostModel(inference_gpu="mi355x", inference_price_per_hour=3.0).inference_gpu


def test_the_command_line_takes_the_formats():
    out = subprocess.run(
        ["scaleplan", "serve", "--model", "llama-3-70b", "--gpu", "b200", "--precision", "fp4",
         "--tpot-ms", "30", "--json"], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    row = json.loads(out)
    assert row["precision"] == "fp4" and row["decode"]["seconds"] <= 0.03
    bad = subprocess.run(
        ["scaleplan", "serve", "--gpu", "h100-sxm", "--precision", "fp4"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "h100-sxm has no 'fp4' peak" in bad.stderr
