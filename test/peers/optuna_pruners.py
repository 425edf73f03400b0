"""Replays a fixed table of intermediate values through Optuna's pruners; prints each trial's pruned step.

Run: python optuna_pruners.py  → JSON {pruner: [pruned step or null per trial]}; src/tuning/pruners
tests replay the same table through ours and compare.
"""
import json
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
N_TRIALS, N_STEPS = 30, 12


def value(i, step):
    return ((i * 7919 + step * 104729) % 1000) / 1000 + 3 / (step + 1)


def replay(pruner):
    study = optuna.create_study(study_name="replay", pruner=pruner)
    out = []
    for i in range(N_TRIALS):
        t = study.ask()
        pruned = None
        for step in range(N_STEPS):
            t.report(value(i, step), step)
            if t.should_prune():
                pruned = step
                break
        study.tell(t, state=optuna.trial.TrialState.PRUNED) if pruned is not None else study.tell(t, value(i, N_STEPS - 1))
        out.append(pruned)
    return out


print(json.dumps({
    "median": replay(optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1, interval_steps=2)),
    "percentile": replay(optuna.pruners.PercentilePruner(30.0, n_startup_trials=2)),
    "successive_halving": replay(optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)),
    "hyperband": replay(optuna.pruners.HyperbandPruner(min_resource=1, max_resource=N_STEPS, reduction_factor=3)),
}))
