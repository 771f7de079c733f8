"""Where a study lives: in memory, in a SQLite file, or in a database server.

A study stored in a database is shared: every process that opens the same storage URL
and study name takes part in one search, and the sampler sees all of their trials. That
is how a search runs across many machines (each needs only the URL):

* ``None``: in memory (one process; gone when it ends);
* ``sqlite:///PATH`` (or a path ending in ``.db``): one file, nothing to start; several
  processes on one machine can share it;
* ``postgresql://USER:PASSWORD@HOST:PORT/DB``, ``mysql+pymysql://...``: any SQLAlchemy
  URL of a server, for many machines;
* ``journal:PATH``: Optuna's append-only journal file (for a shared file system).

Database storages run a heartbeat: a trial whose process died stops being "running"
after two minutes without one and is marked failed, so a crashed worker does not hold up
the others.

>>> storage = open_storage(None)
>>> type(storage).__name__
'InMemoryStorage'
"""

from __future__ import annotations

import os
import random
import time
import warnings
from pathlib import Path

import optuna

HEARTBEAT_INTERVAL, GRACE_PERIOD = 60, 120  # seconds


def default_url(out: str | os.PathLike) -> str:
    """``sqlite:///OUT/study.db``: the storage ``ember tune`` uses unless told otherwise."""
    return f"sqlite:///{Path(out).resolve() / 'study.db'}"


def open_storage(url: str | os.PathLike | optuna.storages.BaseStorage | None,
                 heartbeat: bool = True) -> optuna.storages.BaseStorage:
    """The Optuna storage for ``url`` (see the module docs); a storage object is returned
    as it is.

    Raises:
        ImportError: when the database's driver is missing (naming the package).
        ValueError: for a URL that cannot be read or a server that cannot be reached (the
            password is never shown).
    """
    if url is None:
        return optuna.storages.InMemoryStorage()
    if isinstance(url, optuna.storages.BaseStorage):
        return url
    url = os.fspath(url)
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal:"):]).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if "://" not in url and url.endswith((".db", ".sqlite", ".sqlite3")):
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    engine_kwargs = {}
    if url.startswith("sqlite"):
        # several processes write the file in turn: wait for the lock rather than fail
        engine_kwargs = {"connect_args": {"timeout": 60}}
        folder = url.split(":///", 1)[-1]
        if folder and folder != ":memory:":
            Path(folder).parent.mkdir(parents=True, exist_ok=True)
    options = {"heartbeat_interval": HEARTBEAT_INTERVAL,
               "grace_period": GRACE_PERIOD} if heartbeat else {}
    _check_driver(url)
    try:
        return _rdb_storage(url, engine_kwargs, options)
    except Exception as error:  # SQLAlchemy's errors: bad URL, server down, refused login
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"cannot open the storage {safe_url(url)}: "
                         f"{first_line or type(error).__name__}") from None


def _rdb_storage(url: str, engine_kwargs: dict, options: dict,
                 attempts: int = 5) -> optuna.storages.RDBStorage:
    """Optuna's RDBStorage. Processes that start together on a fresh database race to
    create its tables, and all but one fail on a duplicate; they try again (the tables
    are there by then)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **options)
        except DBAPIError as error:
            message = str(error).lower()
            lost_the_race = isinstance(error, IntegrityError) or any(
                words in message for words in ("already exists", "duplicate", "unique"))
            if not lost_the_race or attempt == attempts - 1:
                raise
            time.sleep(0.2 + random.random())
    raise AssertionError("unreachable")


_PACKAGES = {"psycopg2": "psycopg2-binary", "psycopg": "psycopg[binary]", "pymysql": "PyMySQL",
             "MySQLdb": "mysqlclient", "mysql": "mysql-connector-python"}


def _check_driver(url: str) -> None:
    """Raise an ImportError naming the package when the URL's database driver is missing
    (Optuna's own message does not say which)."""
    try:
        from sqlalchemy.engine import make_url

        dialect = make_url(url).get_dialect()
    except Exception:
        return  # a URL SQLAlchemy cannot read: RDBStorage gives the error
    try:
        dialect.import_dbapi()
    except ImportError as error:
        module = (error.name or "").split(".")[0]
        raise ImportError(f"storage {safe_url(url)}: the database driver {module} is missing: "
                          f"pip install {_PACKAGES.get(module, module)}") from None


def safe_url(url: str) -> str:
    """The URL with its password masked.

    >>> safe_url("postgresql://ember:secret@db:5432/studies")
    'postgresql://ember:***@db:5432/studies'
    """
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url if "@" not in url else url.split("://")[0] + "://***@" + url.split("@")[-1]


def create_study(storage, study_name: str | None, direction: str, sampler, pruner,
                 ) -> optuna.Study:
    """Create the study, or join it when ``storage`` already holds one of that name.

    Raises:
        ValueError: when the stored study optimises in the other direction.
    """
    study = optuna.create_study(storage=storage, study_name=study_name, sampler=sampler,
                                pruner=pruner, direction=direction, load_if_exists=True)
    if study.direction.name.lower() != direction:
        raise ValueError(f"study {study.study_name!r} in this storage was created to "
                         f"{study.direction.name.lower()}, not to {direction}: choose another "
                         "study name (or the same objective)")
    return study
