"""``ember explain TOPIC --options``: the worked calculations of :mod:`ember.explain` on
the command line, one subcommand per registered topic.

    ember explain conv-output --width 32 --kernel 5 --padding 2 --stride 1
    ember explain receptive-field --layers conv3,conv3,pool2,conv3
    ember explain conv --input "1 0 2; 5 4 2; 3 4 5" --kernel "-1 0 1; -1 0 1; -1 0 1" --bias 1
    ember explain pool --input "1 3 2 1; 5 6 0 8; 3 2 1 0; 1 2 3 4" --size 2 --mode max
    ember explain params --layer conv --in-channels 3 --out-channels 100 --kernel 3 \\
        --input-size 32 --padding same
    ember explain lstm-step --x 1 --weight-ih "0.5; 0.5; 0.5; 0.5" --weight-hh "0; 0; 0; 0"

Options come from each topic's registration, so a newly registered calculation appears
here without changes to this file.
"""

from __future__ import annotations

import argparse

from ember.explain.registry import REQUIRED, Option, topics


def register(commands) -> None:
    """Add the ``explain`` subcommand (and one sub-subcommand per topic) to ``commands``,
    the subparsers of the ``ember`` command."""
    parser = commands.add_parser(
        "explain", help="worked calculations: output sizes, parameters, FLOPs, "
                        "convolution, pooling, an LSTM step",
        description="Print the formula, the numbers substituted and the result of a "
                    "calculation learners do by hand.")
    parser.set_defaults(handler=run)
    subparsers = parser.add_subparsers(dest="topic", required=True, metavar="TOPIC")
    for topic in topics().values():
        sub = subparsers.add_parser(topic.name, help=topic.summary,
                                    description=topic.summary[0].upper() + topic.summary[1:]
                                    + ".")
        sub.set_defaults(explain_topic=topic)
        for opt in topic.options:
            _add_option(sub, opt)


def _add_option(parser: argparse.ArgumentParser, opt: Option) -> None:
    # options left out are not passed, so the function's own defaults apply
    if opt.parse is None:
        parser.add_argument(opt.flag, dest=opt.param, action="store_const", const=opt.value,
                            default=argparse.SUPPRESS, help=opt.help)
        return
    required = opt.default is REQUIRED
    parser.add_argument(opt.flag, dest=opt.param, type=_argument_type(opt),
                        required=required, default=argparse.SUPPRESS, choices=opt.choices,
                        metavar=opt.param.upper() if opt.choices is None else None,
                        help=opt.help)


def _argument_type(opt: Option):
    """``opt.parse`` as an argparse type: its ValueError message becomes the usage error."""

    def parse(text: str):
        try:
            return opt.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = opt.param
    return parse


def run(args) -> int:
    """Run the chosen calculation and print its working."""
    topic = args.explain_topic
    kwargs = {opt.param: getattr(args, opt.param) for opt in topic.options
              if hasattr(args, opt.param)}
    print(topic.function(**kwargs))
    return 0
