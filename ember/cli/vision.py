"""``ember vision OP IMAGE -o OUT.png [options]``: any operation of :mod:`ember.vision` on
an image file, the result written as an image.

    ember vision canny photo.png -o edges.png --low 50 --high 150 --sigma 1.4
    ember vision otsu photo.png -o mask.png
    ember vision hough photo.png -o lines.png --votes 120
    ember vision --list

Colour images are converted to grey for the operations defined on one channel (``--gray``
converts first for any operation). Signed results (derivatives) are written as their
absolute value scaled to 0..255; masks as 0/255; labels in colour.
"""

from __future__ import annotations

import argparse

import numpy as np

GREY_ONLY = ("canny", "otsu", "adaptive", "hough", "components", "equalize", "match")


def _operations():
    """name -> (help, options, run(args, image) -> (result image, message))."""
    import ember.vision as V
    from ember.vision import draw

    def morph(op):
        def run(args, image):
            element = V.structuring_element(args.shape, args.size)
            return op(image, element, args.iterations), None
        return run

    def canny(args, image):
        edges = V.canny(image, args.low, args.high, args.l2, args.aperture, args.sigma)
        return edges, f"{int((edges > 0).sum())} edge pixels"

    def otsu(args, image):
        t, mask = V.otsu_threshold(image)
        return mask, f"Otsu threshold {t:g}"

    def hough(args, image):
        edges = V.canny(image, args.low, args.high, sigma=args.sigma)
        lines = V.hough_lines(edges, 1.0, np.pi / 180, args.votes)[:args.max_lines]
        return draw.draw_polar_lines(image, lines), f"{len(lines)} lines"

    def match(args, image):
        from ember.vision.io import read_image

        template = read_image(args.template)
        if template.ndim == 3:
            template = V.rgb_to_grayscale(template[:, :, :3])
        scores = V.match_template(image, template, args.method)
        pick = scores.argmin() if args.method.startswith("sqdiff") else scores.argmax()
        top, left = np.unravel_index(pick, scores.shape)
        boxed = draw.draw_rectangle(image, int(top), int(left), *template.shape[:2])
        return boxed, f"best match at row {top}, column {left} (score {scores[top, left]:.4g})"

    def components(args, image):
        count, labels = V.connected_components(image > 0 if image.dtype == bool else
                                               V.otsu_threshold(image)[1], args.connectivity)
        return draw.color_labels(labels), f"{count - 1} components (Otsu mask)"

    size = ("--size", dict(type=int, default=5, help="kernel or window size (default 5)"))
    sigma = ("--sigma", dict(type=float, default=0.0,
                             help="Gaussian sigma (0: from the size, as OpenCV)"))
    border = ("--border", dict(default="reflect101", help="border mode (default reflect101)"))
    low = ("--low", dict(type=float, default=50.0, help="low Canny threshold (default 50)"))
    high = ("--high", dict(type=float, default=150.0, help="high Canny threshold (default 150)"))
    shape = ("--shape", dict(default="rect", choices=("rect", "ellipse", "cross"),
                             help="structuring element (default rect)"))
    morph_size = ("--size", dict(type=int, default=3, help="structuring element size (3)"))
    iterations = ("--iterations", dict(type=int, default=1, help="times to apply (1)"))
    morph_options = (shape, morph_size, iterations)
    return {
        "gray": ("convert to grey levels (BT.601)", (), lambda a, x: (x, None)),
        "gaussian": ("Gaussian blur", (size, sigma, border),
                     lambda a, x: (V.gaussian_blur2d(x, a.size, a.sigma, a.border), None)),
        "box": ("mean (box) filter", (size, border),
                lambda a, x: (V.box_blur(x, a.size, a.border), None)),
        "median": ("median filter", (size,), lambda a, x: (V.median_blur(x, a.size), None)),
        "sobel": ("Sobel derivative (|d/dx|, |d/dy| or both: the magnitude)",
                  (("--dx", dict(type=int, default=1)), ("--dy", dict(type=int, default=1)),
                   ("--ksize", dict(type=int, default=3, help="1, 3, 5, 7 (-1: Scharr)")),
                   border),
                  lambda a, x: (V.magnitude(V.sobel(x, 1, 0, a.ksize, border=a.border),
                                            V.sobel(x, 0, 1, a.ksize, border=a.border))
                                if a.dx and a.dy else V.sobel(x, a.dx, a.dy, a.ksize,
                                                              border=a.border), None)),
        "laplacian": ("Laplacian", (("--ksize", dict(type=int, default=1)), border),
                      lambda a, x: (V.laplacian(x, a.ksize, border=a.border), None)),
        "gradient": ("gradient magnitude with a textbook operator",
                     (("--operator", dict(default="sobel", choices=V.edges.OPERATORS)),),
                     lambda a, x: (V.magnitude(*V.gradient(x, a.operator)), None)),
        "canny": ("Canny edges", (low, high, sigma, ("--l2", dict(action="store_true")),
                                  ("--aperture", dict(type=int, default=3))), canny),
        "threshold": ("fixed threshold", (("--value", dict(type=float, default=127)),
                                          ("--type", dict(default="binary",
                                                          choices=V.thresholding.THRESHOLD_TYPES))),
                      lambda a, x: (V.threshold(x, a.value, 255, a.type), None)),
        "otsu": ("Otsu's threshold", (), otsu),
        "adaptive": ("adaptive threshold", (("--method", dict(default="mean",
                                                              choices=("mean", "gaussian"))),
                                            ("--block-size", dict(type=int, default=11)),
                                            ("--c", dict(type=float, default=2.0))),
                     lambda a, x: (V.adaptive_threshold(x, 255, a.method, "binary",
                                                        a.block_size, a.c), None)),
        "erode": ("erosion", morph_options, morph(V.erosion)),
        "dilate": ("dilation", morph_options, morph(V.dilation)),
        "open": ("opening", morph_options, morph(V.opening)),
        "close": ("closing", morph_options, morph(V.closing)),
        "morph-gradient": ("morphological gradient", morph_options,
                           morph(V.morphological_gradient)),
        "tophat": ("top hat", morph_options, morph(V.top_hat)),
        "blackhat": ("black hat", morph_options, morph(V.black_hat)),
        "equalize": ("histogram equalisation", (), lambda a, x: (V.equalize_hist(x), None)),
        "hough": ("Hough lines of the Canny edges, drawn on the image",
                  (low, high, sigma, ("--votes", dict(type=int, default=100,
                                                      help="votes a line needs (100)")),
                   ("--max-lines", dict(type=int, default=20))), hough),
        "match": ("template matching: the best match boxed",
                  (("--template", dict(required=True, help="the template image file")),
                   ("--method", dict(default="ccoeff_normed",
                                     choices=V.template.METHODS))), match),
        "components": ("connected components of the Otsu mask, in colour",
                       (("--connectivity", dict(type=int, default=8, choices=(4, 8))),),
                       components),
    }


OPERATIONS = ("gray", "gaussian", "box", "median", "sobel", "laplacian", "gradient", "canny",
              "threshold", "otsu", "adaptive", "erode", "dilate", "open", "close",
              "morph-gradient", "tophat", "blackhat", "equalize", "hough", "match",
              "components")


def register(commands) -> None:
    """Add ``ember vision`` and one sub-subcommand per operation."""
    parser = commands.add_parser(
        "vision", help="run an image-processing operation on an image file",
        description="Apply an ember.vision operation (equal to OpenCV's) to an image file "
                    "and write the result as an image.")
    parser.set_defaults(handler=run)
    parser.add_argument("--list", action="store_true", dest="list_operations",
                        help="list the operations")
    subparsers = parser.add_subparsers(dest="operation", metavar="OP")
    for name, (summary, options, _) in _operations().items():
        sub = subparsers.add_parser(name, help=summary, description=summary[0].upper()
                                    + summary[1:] + ".")
        sub.add_argument("image", metavar="IMAGE", help="the input image file")
        sub.add_argument("-o", "--out", required=True, metavar="OUT",
                         help="the output image file (.png, .jpg, ...)")
        sub.add_argument("--gray", action="store_true", help="convert to grey first")
        for flag, kwargs in options:
            sub.add_argument(flag, **kwargs)


def run(args: argparse.Namespace) -> int:
    from ember.vision import draw, io, rgb_to_grayscale

    operations = _operations()
    if args.list_operations or args.operation is None:
        if not args.list_operations:
            raise ValueError("vision: give an operation (ember vision --list shows them)")
        width = max(map(len, operations))
        for name, (summary, _, _) in operations.items():
            print(f"{name.ljust(width)}  {summary}")
        return 0
    image = io.read_image(args.image)
    if image.ndim == 3 and image.shape[2] == 4:
        image = np.ascontiguousarray(image[:, :, :3])
    grey = args.gray or args.operation in GREY_ONLY + ("gray",)
    if grey and image.ndim == 3:
        image = rgb_to_grayscale(image)
    result, message = operations[args.operation][2](args, image)
    io.write_image(args.out, draw.to_display(result))
    print(f"{args.operation}: {args.image} -> {args.out}" + (f" ({message})" if message else ""))
    return 0
