"""Internal helpers shared by every layer: array broadcasting (`arrays`), argument checks
(`checks`), guarded file reads (`files`), tables (`frames`), progress (`progress`) and text
(`text`). Not public API."""
