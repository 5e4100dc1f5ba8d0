"""The command that regenerates the paper's tables and figures (`scaleplan.paper`):
reproduce."""
