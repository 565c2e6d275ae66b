"""dlt loaders landing Larkspur's source systems in `raw_<source>` datasets.

Call `load()`; each source is also a plain dlt source (`loaders.shop.shop`, ...) that can be run
with any pipeline. `loaders.registry` lists the sources.
"""

from typing import Any

__all__ = ["LoadInterrupted", "LoadReport", "LoaderError", "SourceResult", "load"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `loaders.registry` alone (the PostgreSQL setup, the CLI) does not
    # pay for importing dlt.
    if name in {"LoaderError", "LoadInterrupted"}:
        from loaders import errors

        return getattr(errors, name)
    if name in {"LoadReport", "SourceResult", "load"}:
        from loaders import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'loaders' has no attribute {name!r}")
