"""The commands that run the optimisers (`scaleplan.optimal`): plan (with its physical
half, `plan_physical`), compute-optimal, cost-optimal, best-quality and implied-demand, and
the options they share for a data limit (`data_limit`, `--unique-tokens`) and a downstream
score (`downstream_target`, `--target-accuracy`)."""
