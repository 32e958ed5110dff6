"""Settings shared by the whole test suite.

The suite must not write into the repository. Hypothesis would create ``.hypothesis/`` in the working directory
(its example database and a cache of constants read from the code under test), so it keeps no example database
and its storage lives in a temporary directory removed at the end of the run. Failing examples are still printed
with the failure; ``@example`` pins the ones worth keeping.
"""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="netmodel-tests-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
# No per-example deadline: these tests check answers, not speed, and CI machines are shared and noisy
# (a Hypothesis deadline failed a set-algebra test once under load).
settings.register_profile("netmodel", database=None, deadline=None)
settings.load_profile("netmodel")


def pytest_sessionfinish() -> None:
    shutil.rmtree(_HYPOTHESIS_HOME, ignore_errors=True)
