"""The commands about hardware and time (`scaleplan.systems`): serve, step-time,
best-shapes and measure, and hardware, the accelerator catalogue they price with."""
