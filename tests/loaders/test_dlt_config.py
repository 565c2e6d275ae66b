"""dlt reads the project's .dlt/config.toml, and it leaves Airflow alone outside Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from warehouse.settings import PROJECT_DIR

# What a loading process has imported once dlt's configuration is in use (writing a value sets
# up dlt's configuration providers, as the first read of a source's settings does).
PROBE = """
import json, sys
import dlt
dlt.config["probe"] = 1
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] == "airflow")))
"""


def test_a_load_process_does_not_import_airflow(tmp_path: Path) -> None:
    """Airflow is installed for the DAG; a plain `warehouse load` must not pay its import."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("PROVIDERS__")
    }
    environment["DLT_PROJECT_DIR"] = str(PROJECT_DIR)
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == []
