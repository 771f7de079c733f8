"""These are scripts that mpiexec runs, not test modules: pytest does not import them."""

collect_ignore_glob = ["*.py"]
