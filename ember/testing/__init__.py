"""Tools to verify ops: ``gradcheck`` (finite differences) and ``assert_close``."""

from ember.testing.compare import assert_close
from ember.testing.gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "assert_close", "gradcheck"]
