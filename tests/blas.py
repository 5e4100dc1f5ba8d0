"""Running one snippet under each OpenBLAS kernel this CPU can run, each in its own
process (OpenBLAS picks its kernel when it loads): the check that an answer does not move
with the BLAS kernel or the thread count."""

from __future__ import annotations

import os
import subprocess
import sys

# Not a kernel: the environment's own kernel at one thread.
ONE_THREAD = "one thread"


def blas_kernels() -> list[str | None]:
    """OpenBLAS kernels this CPU can run (None: the one it picks, at two threads;
    ONE_THREAD: the same at one thread). Forcing a kernel whose instructions the CPU lacks
    would crash, and where the environment already pins OPENBLAS_CORETYPE the CPU needs
    that pin (older OpenBLAS builds misbehave there), so then only the pinned one runs, at
    two thread counts."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        return [None, ONE_THREAD]
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((ln for ln in f if ln.startswith("flags")), "").split())
    except OSError:
        return [None]
    kernels: list[str | None] = [None]
    if "avx2" in flags:
        kernels += ["Haswell", "Zen"]
    if "avx512f" in flags:
        kernels.append("SkylakeX")
    return kernels


def outputs_by_kernel(code: str, kernels: list[str | None]) -> dict[str | None, str]:
    """What `python -c code` prints under each kernel of `kernels`."""
    answers = {}
    for kernel in kernels:
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        if kernel == ONE_THREAD:
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        elif kernel:
            env["OPENBLAS_CORETYPE"] = kernel
        else:
            env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, timeout=300)  # fmt: skip
        answers[kernel] = out.stdout
    return answers
