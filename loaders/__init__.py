"""dlt loaders landing Larkspur's six source systems in `raw_<source>` datasets.

Call `load()`; each source is also a plain dlt source (`loaders.shop.shop`, ...) that can be run
with any pipeline.
"""

from loaders.errors import LoaderError, LoadInterrupted
from loaders.runner import SOURCE_NAMES, LoadReport, SourceResult, load

__all__ = ["SOURCE_NAMES", "LoadInterrupted", "LoadReport", "LoaderError", "SourceResult", "load"]
