"""The checks of a `TransformerShape`'s expert and latent-attention fields, which fill
their defaults and refuse what the Rust kernel would (so that a bad shape fails where it
is built). Kept apart from `shapes` so that the class stays one screen."""

from __future__ import annotations

from typing import Any

from .._utils.checks import MAX_SHAPE_FIELD, whole
from ..errors import ScaleplanError

__all__ = ["check_experts", "check_latent"]


def _positive(name: str, value: Any) -> int:
    return whole(name, value, 1, MAX_SHAPE_FIELD)


def check_experts(shape: Any) -> None:
    """Fills the expert defaults and checks them against each other (as the Rust kernel
    does, so that a bad shape fails where it is built)."""
    set_ = object.__setattr__
    experts = _positive("experts", shape.experts)
    set_(shape, "experts", experts)
    per_token = whole("experts_per_token", shape.experts_per_token, 1, experts)
    set_(shape, "experts_per_token", per_token)
    width = shape.d_ff if shape.expert_d_ff is None else shape.expert_d_ff
    set_(shape, "expert_d_ff", _positive("expert_d_ff", width))
    set_(shape, "shared_d_ff", whole("shared_d_ff", shape.shared_d_ff, 0, MAX_SHAPE_FIELD))
    layers = shape.moe_layers
    if layers is None:
        layers = shape.n_layers if experts > 1 else 0
    set_(shape, "moe_layers", whole("moe_layers", layers, 0, shape.n_layers))


def check_latent(shape: Any) -> None:
    """Latent attention's fields: all 0 without a `kv_lora_rank`; a rotary part below
    `head_dim` with one."""
    set_ = object.__setattr__
    for name in ("kv_lora_rank", "q_lora_rank", "rope_head_dim"):
        set_(shape, name, whole(name, getattr(shape, name), 0, MAX_SHAPE_FIELD))
    if shape.kv_lora_rank == 0:
        for name in ("q_lora_rank", "rope_head_dim"):
            if getattr(shape, name):
                raise ScaleplanError(
                    f"{name} needs a kv_lora_rank (latent attention); got {name}="
                    f"{getattr(shape, name)} with kv_lora_rank=0",
                    name,
                )
    else:
        whole("rope_head_dim", shape.rope_head_dim, 0, shape.head_dim - 1)  # type: ignore[operator]
    v = shape.head_dim if shape.v_head_dim is None else shape.v_head_dim
    set_(shape, "v_head_dim", _positive("v_head_dim", v))
