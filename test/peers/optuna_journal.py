"""Optuna's side of the journal interop test (test/integration/optuna-interop.test.ts).

    optuna_journal.py dump     BACKEND STUDY          # load the study, print it as JSON
    optuna_journal.py write    BACKEND STUDY N SEED   # new study: TPE + MedianPruner, N trials; print it
    optuna_journal.py continue BACKEND STUDY N SEED   # load the study, run N more trials; print it

BACKEND is `file:<path>` (JournalFileBackend, default symlink lock) or `redis:<url>#<prefix>`
(JournalRedisBackend). Output: {"directions", "user_attrs", "system_attrs", "trials": [...]}, each trial
with its number, state name, params (external), distributions (distribution_to_json, parsed), values,
intermediate values, attributes and times; non-finite numbers as Python writes them (NaN, Infinity).
"""

import json
import sys

import warnings

import optuna
from optuna.distributions import distribution_to_json
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend, JournalRedisBackend


def storage(spec):
    kind, _, rest = spec.partition(":")
    if kind == "file":
        return JournalStorage(JournalFileBackend(rest))
    if kind == "redis":
        url, _, prefix = rest.partition("#")
        return JournalStorage(JournalRedisBackend(url, prefix=prefix))
    raise SystemExit(f"unknown backend {spec}")


def dump(study):
    return {
        "directions": [d.name.lower() for d in study.directions],
        "user_attrs": study.user_attrs,
        "system_attrs": study._storage.get_study_system_attrs(study._study_id),
        "trials": [
            {
                "number": t.number,
                "state": t.state.name,
                "params": t.params,
                "distributions": {k: json.loads(distribution_to_json(d)) for k, d in t.distributions.items()},
                "values": t.values,
                "intermediate_values": {str(k): v for k, v in t.intermediate_values.items()},
                "user_attrs": t.user_attrs,
                "system_attrs": t.system_attrs,
                "datetime_start": t.datetime_start.astimezone().isoformat() if t.datetime_start else None,
                "datetime_complete": t.datetime_complete.astimezone().isoformat() if t.datetime_complete else None,
            }
            for t in study.trials
        ],
    }


def objective(trial):
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 4)
    act = trial.suggest_categorical("act", ["relu", "tanh", None])
    bias = 0.0 if act == "relu" else 0.5
    if trial.number == 3:
        raise ValueError("a failed trial, on purpose")
    value = 0.0
    for step in range(5):
        value = (x - 1.0) ** 2 + layers * 0.1 + bias + lr + 1.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def optimize(study, n):
    study.optimize(objective, n_trials=n, catch=(ValueError,))


def main():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    mode, spec, name = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "dump":
        study = optuna.load_study(study_name=name, storage=storage(spec))
    else:
        n, seed = int(sys.argv[4]), int(sys.argv[5])
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
        if mode == "write":
            study = optuna.create_study(study_name=name, storage=storage(spec), sampler=sampler, pruner=pruner)
            study.set_user_attr("written_by", "optuna")
        else:
            study = optuna.load_study(study_name=name, storage=storage(spec), sampler=sampler, pruner=pruner)
        optimize(study, n)
    print(json.dumps(dump(study)))


if __name__ == "__main__":
    main()
