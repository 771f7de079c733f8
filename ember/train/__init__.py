"""Training: the fit loop, its callbacks, and plots of what happened.

>>> import ember as em
>>> trainer = em.train.Trainer  # Trainer(model, loss_fn, optimizer).fit(train, val, epochs)
"""

from ember.train.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from ember.train.trainer import Trainer, TrainingDiverged

__all__ = ["Callback", "CSVLogger", "EarlyStopping", "ModelCheckpoint", "Trainer",
           "TrainingDiverged"]
