"""The commands that read a loss law alone (`scaleplan.laws`): chinchilla-optimal, its
closed form, and presets, the published laws."""
