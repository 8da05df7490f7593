"""The tools of ``tools/analysis_tools/`` import ``analysis_lib`` from their own folder;
the tests import it the same way."""

import sys

from tests.helpers import REPO

ANALYSIS_TOOLS = str(REPO / 'tools' / 'analysis_tools')
if ANALYSIS_TOOLS not in sys.path:
    sys.path.insert(0, ANALYSIS_TOOLS)
