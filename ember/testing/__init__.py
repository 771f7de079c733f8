"""Tools to verify ops: ``gradcheck`` and ``gradgradcheck`` (finite differences of the
first and second derivatives) and ``assert_close``."""

from ember.testing.compare import assert_close
from ember.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "assert_close", "gradcheck", "gradgradcheck"]
