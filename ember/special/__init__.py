"""``em.special``: special functions, as ``torch.special``, and the information measures
of probability distributions (entropy, cross-entropy, KL divergence, self-information).

>>> import ember as em
>>> p = em.tensor([0.5, 0.25, 0.25])
>>> em.special.entropy(p, base=2).item()
1.5
"""

from ember.ops.special import erf, erfc
from ember.special.information import cross_entropy, entr, entropy, information, kl_div, xlogy

__all__ = ["erf", "erfc", "entr", "xlogy", "entropy", "cross_entropy", "kl_div",
           "information"]
