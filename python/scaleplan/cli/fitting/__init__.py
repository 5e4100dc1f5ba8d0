"""The commands that fit laws to training runs (`scaleplan.fitting`): fit (with Epoch's
likelihood estimator in `fit_likelihood`), isoflop, families and next-run, and `csv_runs`,
the reader of a runs CSV they share."""
