"""The standard Hough transform for lines (``cv2.HoughLines``).

A line is written in normal form, ``rho = x cos(theta) + y sin(theta)``: rho is its
signed distance from the top-left corner and theta the angle of its normal (x to the
right, y downwards). Every edge pixel votes, for each of the quantised angles theta_n,
for the distance bin ``round(x cos(theta_n) + y sin(theta_n))`` it would lie on; lines
are the accumulator cells with more than ``threshold`` votes that are local maxima
(``>`` the cells before them and ``>=`` the cells after, along rho and along theta),
strongest first.

The arithmetic follows OpenCV's in float32 (the angle table, the rounding of each vote,
the accumulator's size ``round((2 (W + H) + 1) / rho)``), so the lines equal
``cv2.HoughLines``'.

Reference: R. O. Duda, P. E. Hart, "Use of the Hough transformation to detect lines and
curves in pictures", Comm. ACM 15(1), 1972.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ember.tensor import Tensor
from ember.vision.layout import Planes

__all__ = ["hough_lines", "hough_accumulator", "HoughAccumulator"]


@dataclass
class HoughAccumulator:
    """The vote counts of :func:`hough_accumulator`.

    Attributes:
        votes: (angles, distances) int32 counts.
        thetas: the angle of each row (radians, float32).
        rhos: the distance of each column (pixels, float32).
    """

    votes: np.ndarray
    thetas: np.ndarray
    rhos: np.ndarray


def hough_accumulator(x, rho: float = 1.0, theta: float = np.pi / 180,
                      min_theta: float = 0.0, max_theta: float = np.pi) -> HoughAccumulator:
    """Every nonzero pixel's votes in the (theta, rho) plane.

    >>> import numpy as np
    >>> acc = hough_accumulator(np.eye(5, dtype=np.uint8), 1, np.pi / 4)  # y = x
    >>> [round(float(t), 4) for t in acc.thetas]
    [0.0, 0.7854, 1.5708, 2.3562]
    >>> n, r = np.unravel_index(acc.votes.argmax(), acc.votes.shape)
    >>> int(acc.votes[n, r]), round(float(acc.thetas[n]), 4), float(acc.rhos[r])   # 135 deg
    (5, 2.3562, 0.0)
    """
    planes = Planes(x, "hough_accumulator")
    if planes.batch * planes.channels != 1:
        raise ValueError(f"hough_lines: expects one image plane (a binary edge map), got "
                         f"shape {tuple(np.shape(x))}")
    if not rho > 0 or not theta > 0:
        raise ValueError(f"hough_lines: rho and theta must be positive, got {rho}, {theta}")
    if max_theta < min_theta:
        raise ValueError(f"hough_lines: max_theta ({max_theta}) must be >= min_theta "
                         f"({min_theta})")
    image = planes.array[0, 0]
    height, width = image.shape
    rho32, theta32 = np.float32(rho), np.float32(theta)
    inverse = np.float32(1) / rho32
    count = int(np.floor((max_theta - min_theta) / float(theta32))) + 1
    if count > 1 and abs(np.pi - (count - 1) * float(theta32)) < float(theta32) / 2:
        count -= 1  # theta = pi is theta = 0 with rho negated: do not count lines twice
    max_rho = width + height
    distances = int(np.rint((2 * max_rho + 1) / rho32))
    # angles accumulate in float32, as OpenCV's table does
    angles = np.empty(count, np.float32)
    angle = np.float32(min_theta)
    for n in range(count):
        angles[n] = angle
        angle = np.float32(angle + theta32)
    sin = (np.sin(angles.astype(np.float64)) * float(inverse)).astype(np.float32)
    cos = (np.cos(angles.astype(np.float64)) * float(inverse)).astype(np.float32)
    ys, xs = np.nonzero(image)
    votes = np.zeros((count, distances), np.int64)
    offset = (distances - 1) // 2
    # angle by angle: each pixel's bin round(x cos + y sin) + offset, in float32 as OpenCV
    x, y = xs.astype(np.float32), ys.astype(np.float32)
    r, term = np.empty_like(x), np.empty_like(x)
    index = np.int16 if distances < 32767 else np.int64
    for n in range(count):
        np.multiply(x, cos[n], out=r)
        np.multiply(y, sin[n], out=term)
        r += term
        np.rint(r, out=r)
        r += offset
        votes[n] = np.bincount(r.astype(index), minlength=distances)
    rhos = (np.arange(distances) - offset).astype(np.float32) * rho32
    thetas = (np.float32(min_theta) + np.arange(count, dtype=np.float32) * theta32)
    return HoughAccumulator(votes.astype(np.int32),
                            thetas.astype(np.float32), rhos.astype(np.float32))


def hough_lines(x, rho: float = 1.0, theta: float = np.pi / 180, threshold: int = 100,
                min_theta: float = 0.0, max_theta: float = np.pi, return_votes: bool = False):
    """Lines through the nonzero pixels, as (rho, theta) pairs, strongest first
    (``cv2.HoughLines(x, rho, theta, threshold)[:, 0]``).

    Args:
        x: a binary edge map with one channel (nonzero pixels vote), e.g. from
            :func:`~ember.vision.canny`.
        rho: distance resolution in pixels (default 1).
        theta: angle resolution in radians (default 1 degree).
        threshold: a line needs more than this many votes.
        min_theta, max_theta: the range of angles (default [0, pi)).
        return_votes: return (N, 3) rows of (rho, theta, votes).

    Returns:
        float32 (N, 2) (or (N, 3)) — an array, or a Tensor for a tensor.

    >>> import numpy as np
    >>> x = np.zeros((40, 100), np.uint8); x[5, :] = 255      # the row y = 5
    >>> hough_lines(x, 1, np.pi / 180, 50)[0]                 # rho 5, theta 90 degrees
    array([5.       , 1.5707964], dtype=float32)
    """
    acc = hough_accumulator(x, rho, theta, min_theta, max_theta)
    votes = acc.votes.astype(np.int64)
    padded = np.pad(votes, 1)
    centre = padded[1:-1, 1:-1]
    peak = ((centre > int(threshold)) & (centre > padded[1:-1, :-2]) & (centre >= padded[1:-1, 2:])
            & (centre > padded[:-2, 1:-1]) & (centre >= padded[2:, 1:-1]))
    n, r = np.nonzero(peak)  # in angle-major order, OpenCV's tie order
    order = np.argsort(-votes[n, r], kind="stable")
    n, r = n[order], r[order]
    columns = [acc.rhos[r], acc.thetas[n]]
    if return_votes:
        columns.append(votes[n, r].astype(np.float32))
    lines = np.stack(columns, axis=1).astype(np.float32).reshape(-1, len(columns))
    return Tensor._wrap(lines) if isinstance(x, Tensor) else lines
