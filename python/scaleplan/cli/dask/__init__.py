"""The command that solves a grid of scenarios on Dask (`scaleplan.dask`): sweep."""
