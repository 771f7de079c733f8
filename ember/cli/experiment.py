"""``ember experiment NAME [--out DIR] [--smoke]`` and ``ember experiment --list``.

Runs one of :mod:`ember.experiments`: prints the claim, the table of measurements, the
finding (whether the claim held on this run) and where the plot went.
"""

from __future__ import annotations

import argparse


def register(commands) -> None:
    """Add the ``experiment`` subcommand to the ``ember`` parser's subparsers."""
    parser = commands.add_parser(
        "experiment", help="run a textbook claim as a measured experiment with a plot",
        description="Run a small, seeded experiment that tests a deep-learning claim; print "
                    "its measurements and whether the claim held, and write NAME.png to "
                    "--out. 'ember experiment --list' shows them all.")
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="the experiment (see --list)")
    parser.add_argument("--list", action="store_true", dest="list_experiments",
                        help="list the experiments and their claims")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="folder for the plot (default runs/experiments)")
    parser.add_argument("--smoke", action="store_true",
                        help="a reduced run of a second or so (its claim need not hold)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from ember import experiments

    if args.list_experiments:
        width = max(len(name) for name in experiments.names())
        for name, claim in experiments.list():
            print(f"{name.ljust(width)}  {claim}")
        return 0
    if args.name is None:
        raise ValueError("experiment: give an experiment NAME, or --list to see them")
    experiments.get(args.name)  # an unknown name fails here, before any work
    out = args.out or experiments.DEFAULT_OUT
    size = "smoke" if args.smoke else "full"
    result = experiments.run(args.name, out=out, size=size, seed=args.seed)
    print(f"{result.name}: {result.claim}\n")
    print(result.summary())
    print(f"\nplot: {result.plot}")
    print(f"ran in {result.seconds:.1f} s ({size} size, seed {args.seed})")
    return 0
