"""The speculative-decoding options `serve` and `plan` share (`add`), and the
`Speculation` they describe (`of`)."""

from __future__ import annotations

import argparse
from typing import Any

from .values import integer, probability


def add(p: argparse.ArgumentParser, group: Any) -> None:
    """--draft, --draft-tokens and --acceptance, in `group` of `p`."""
    group.add_argument("--draft", metavar="mtp|MODEL",
                       help="speculative decoding: 'mtp' (multi-token-prediction heads on "
                       "the model) or a draft model (a catalogue name or an HF config.json "
                       "with the model's vocabulary); default: none")  # fmt: skip
    group.add_argument("--draft-tokens", type=integer(1, 64), metavar="N",
                       help="tokens the draft proposes a step, 1 to 64 (default 1; needs "
                       "--draft)")  # fmt: skip
    group.add_argument("--acceptance", type=probability, metavar="P",
                       help="probability a drafted token is accepted, given the ones before "
                       "it were, in [0, 1] (default 0.85, DeepSeek-V3's MTP; needs "
                       "--draft)")  # fmt: skip


def of(args: argparse.Namespace) -> Any:
    """The `Speculation` the options describe, or None without --draft."""
    from ..systems.speculation import Speculation
    from .shared import CliError

    if args.draft is None:
        for option, value in (("--draft-tokens", args.draft_tokens),
                              ("--acceptance", args.acceptance)):  # fmt: skip
            if value is not None:
                raise CliError(f"{option} needs --draft (mtp or a draft model)")
        return None
    given = {k: v for k, v in (("draft_tokens", args.draft_tokens),
                               ("acceptance", args.acceptance)) if v is not None}  # fmt: skip
    return Speculation(args.draft, **given)
