"""The objective ``ember tune`` optimises: train with a trial's hyperparameters, score on
validation data; and at the end, once, the test set.

The protocol of the notes: parameters (weights) are fitted on the training set,
hyperparameters are chosen on the validation set, and the test set is touched once, at
the very end, by the chosen configuration:

1. the training split is cut once (seeded) into a training part and a validation part
   (``val_fraction``), or into ``cv`` folds for k-fold cross-validation;
2. every trial trains the model with its hyperparameters using the
   :class:`~ember.train.Trainer` on the training part, reports the validation loss after
   every epoch (so that a pruner can stop it early) and returns the last epoch's value
   (the mean over the folds with ``cv``);
3. :meth:`TrainingObjective.final` retrains the best configuration on the whole
   training split (training and validation parts) and evaluates it on the test split:
   the only time the test split is read.

Every trial starts from ``ember.manual_seed(seed)``: the same initial weights and
batch order, so that trials differ only by their hyperparameters, and any trial can be
repeated exactly.

>>> objective = TrainingObjective("mlp", "digits", epochs=2)     # doctest: +SKIP
>>> objective({"lr": 1e-3})                                       # doctest: +SKIP
0.61...
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ember import data, nn, random
from ember.cli import recipes
from ember.data import transforms
from ember.data.split import KFold
from ember.tensor import Tensor
from ember.train import Trainer
from ember.tune.pruning import PruningCallback

PARAMETERS = {
    "lr": "learning rate (default: the optimizer's usual one)",
    "batch_size": "mini-batch size",
    "weight_decay": "L2 weight decay (default 0)",
    "optimizer": f"one of {', '.join(recipes.OPTIMIZERS)} (default adam)",
    "scheduler": f"learning-rate schedule: {', '.join(recipes.SCHEDULERS)} (default cosine)",
    "epochs": "epochs of training",
    "augment": "random shifts of up to this many pixels while training",
    "label_smoothing": "label smoothing of the cross-entropy loss (default 0)",
    "width": "mlp only: width of the first hidden layer (the second is half as wide)",
    "dropout": "mlp only: dropout after each hidden layer (default 0)",
}
METRICS = {"val_loss": "minimize", "val_accuracy": "maximize"}


@dataclass
class FinalResult:
    """The chosen configuration retrained and evaluated once on the test set."""

    params: dict
    recipe: dict
    test_loss: float
    test_accuracy: float
    test_size: int
    model: nn.Module
    history: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


class TrainingObjective:
    """Train ``model`` on ``dataset`` with each trial's hyperparameters; score it on the
    validation data.

    Call it as ``objective(params, trial=None)``: ``params`` maps names from
    :data:`PARAMETERS` to values (those missing take the recipe defaults of
    ``ember train``); with an Optuna ``trial`` the validation value is reported after
    every epoch and the study's pruner may stop the trial.

    Args:
        model: ``mlp`` or ``lenet5``.
        dataset: ``digits`` (ships with scikit-learn), ``mnist`` or ``fashion-mnist``.
        data_dir: the folder of the IDX files (mnist, fashion-mnist).
        metric: ``val_loss`` (minimised) or ``val_accuracy`` (maximised).
        cv: k for k-fold cross-validation (:class:`~ember.data.KFold`, shuffled with
            ``seed``) instead of one validation split; None for one split.
        val_fraction: the validation share of the training split (without ``cv``).
        train_size: use only this many training images (drawn with ``seed``), for a quick
            search; None for all.
        seed: seeds the split and every trial's training.
        **defaults: recipe values used when a trial does not set them (``epochs=5``).
    """

    def __init__(self, model: str = "mlp", dataset: str = "digits", data_dir: str | None = None,
                 *, metric: str = "val_loss", cv: int | None = None, val_fraction: float = 0.1,
                 train_size: int | None = None, seed: int = 0, **defaults) -> None:
        if model not in recipes.MODELS:
            raise ValueError(f"unknown model {model!r}; choose from {', '.join(recipes.MODELS)}")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        if cv is not None and (not isinstance(cv, int) or cv < 2):
            raise ValueError(f"cv must be at least 2 folds, got {cv!r}")
        if cv is None and not 0 < val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
        check_parameters(defaults, model)
        self.model_name, self.dataset, self.data_dir = model, dataset, data_dir
        self.metric, self.direction = metric, METRICS[metric]
        self.cv, self.val_fraction, self.seed = cv, val_fraction, seed
        self.defaults = dict(defaults)
        self.test_evaluations = 0

        split = recipes.load_split(dataset, True, data_dir)
        generator = np.random.default_rng(seed)
        if train_size is not None:
            if not 0 < train_size <= len(split.labels):
                raise ValueError(f"train_size must be in 1..{len(split.labels)}, got "
                                 f"{train_size}")
            keep = np.sort(generator.permutation(len(split.labels))[:train_size])
            split = recipes.Split(split.images[keep], split.labels[keep], split.classes)
        self.classes = split.classes
        self.size = recipes.model_input_size(model, dataset)
        self.mean, self.std = float(split.images.mean()), float(split.images.std())
        self.x = recipes.prepare(split.images, self.size, self.mean, self.std).numpy()
        self.y = split.labels
        if cv is None:
            order = generator.permutation(len(self.y))
            n_val = max(1, int(round(val_fraction * len(self.y))))
            self.folds = [(np.sort(order[n_val:]), np.sort(order[:n_val]))]
        else:
            folds = KFold(cv, shuffle=True, seed=seed).split_indices(self.x)
            self.folds = list(folds)

    # ------------------------------------------------------------------ a trial

    def recipe(self, params: dict) -> dict:
        """The full training recipe for ``params``: defaults filled in."""
        check_parameters(params, self.model_name)
        base = recipes.defaults(self.model_name, self.dataset)
        recipe = {"optimizer": "adam", "scheduler": "cosine", "weight_decay": 0.0,
                  "label_smoothing": 0.0, "width": None, "dropout": 0.0, **base,
                  **self.defaults, **params}
        if recipe.get("lr") is None:
            recipe["lr"] = recipes.DEFAULT_LR[recipe["optimizer"]]
        return recipe

    def __call__(self, params: dict, trial=None) -> float:
        recipe = self.recipe(params)
        values = []
        for fold, (train_index, val_index) in enumerate(self.folds):
            pruning = [] if trial is None else [
                PruningCallback(trial, self.metric, step_offset=fold * recipe["epochs"])]
            trainer = self._fit(recipe, train_index, val_index, pruning)
            if trainer.stopped_reason:  # the loss became NaN or infinite
                if trial is not None:
                    trial.set_user_attr("diverged", trainer.stopped_reason)
                return math.inf if self.direction == "minimize" else -math.inf
            values.append(trainer.history[self.metric][-1])
        if trial is not None and self.cv:
            trial.set_user_attr("folds", [float(v) for v in values])
        return float(np.mean(values))

    def _fit(self, recipe: dict, train_index, val_index, callbacks, ) -> Trainer:
        random.manual_seed(self.seed)  # the same initial weights and batches every trial
        model = self.build_model(recipe)
        optimizer = recipes.build_optimizer(recipe["optimizer"], model.parameters(),
                                            recipe["lr"], recipe["weight_decay"])
        scheduler = recipes.build_scheduler(recipe["scheduler"], optimizer, recipe["epochs"])
        loss = nn.CrossEntropyLoss(label_smoothing=recipe["label_smoothing"])
        trainer = Trainer(model, loss, optimizer, metrics=["accuracy"], scheduler=scheduler,
                          callbacks=callbacks, progress=False, log=lambda message: None)
        train = self._loader(train_index, recipe, training=True)
        val = self._loader(val_index, recipe, training=False) if val_index is not None else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a divergence is reported
            trainer.fit(train, val, epochs=recipe["epochs"])
        return trainer

    def _loader(self, index, recipe: dict, training: bool) -> data.DataLoader:
        x, y = self.x[index], self.y[index]
        if not training:
            return data.DataLoader(data.TensorDataset(Tensor._wrap(x), Tensor._wrap(y)),
                                   batch_size=512)
        augment = recipe["augment"]
        shift = (transforms.RandomCrop(self.size, padding=augment, fill=-self.mean / self.std)
                 if augment else None)
        return data.DataLoader(data.ArrayDataset(x, y, transform=shift),
                               batch_size=int(recipe["batch_size"]), shuffle=True)

    def build_model(self, recipe: dict) -> nn.Module:
        return recipes.build_model(self.model_name, self.size, len(self.classes),
                                   **architecture(recipe, self.model_name))

    # ------------------------------------------------------------------ the end

    def final(self, params: dict) -> FinalResult:
        """Retrain ``params`` on the whole training split and evaluate it on the test
        split, the one time the test split is read."""
        recipe = self.recipe(params)
        everything = np.arange(len(self.y))
        trainer = self._fit(recipe, everything, None, [])
        if trainer.stopped_reason:
            raise RuntimeError(f"retraining the best configuration failed: "
                               f"{trainer.stopped_reason}")
        test = self._read_test_split()
        x_test = recipes.prepare(test.images, self.size, self.mean, self.std).numpy()
        loader = data.DataLoader(data.TensorDataset(Tensor._wrap(x_test),
                                                    Tensor._wrap(test.labels)), batch_size=512)
        scores = trainer.evaluate(loader)
        meta = {"model": self.model_name, "dataset": self.dataset,
                "input_size": list(self.size), "normalize": [self.mean, self.std],
                "classes": self.classes, "architecture": architecture(recipe, self.model_name),
                "recipe": {k: v for k, v in recipe.items() if v is not None},
                "seed": self.seed}
        return FinalResult(dict(params), recipe, scores["loss"], scores["accuracy"],
                           len(test.labels), trainer.model, trainer.history, meta)

    def _read_test_split(self) -> recipes.Split:
        self.test_evaluations += 1
        return recipes.load_split(self.dataset, False, self.data_dir)


def architecture(recipe: dict, model: str) -> dict:
    """The model-building options in ``recipe`` (``hidden``, ``dropout`` for the mlp)."""
    if model != "mlp":
        return {}
    options = {}
    if recipe.get("width"):
        width = int(recipe["width"])
        options["hidden"] = [width, max(1, width // 2)]
    if recipe.get("dropout"):
        options["dropout"] = float(recipe["dropout"])
    return options


def check_parameters(params: dict, model: str) -> None:
    """Refuse names the objective does not know, and architecture options for lenet5."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"unknown hyperparameter {unknown[0]!r} for ember tune; choose from "
                         f"{', '.join(PARAMETERS)}")
    if model != "mlp":
        for name in ("width", "dropout"):
            if params.get(name):
                raise ValueError(f"{name} applies to the mlp only, not to {model}")
