"""Makes this folder importable as `ingest_unit`, for its in-memory fakes.

The suites run in importlib mode, where a test folder's own modules cannot be imported
(and every service has a `fakes.py`): the folder gets a package name of its own.
"""

import sys
import types
from pathlib import Path

_package = types.ModuleType("ingest_unit")
_package.__path__ = [str(Path(__file__).parent)]
sys.modules.setdefault("ingest_unit", _package)
