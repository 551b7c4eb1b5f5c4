# TEMPORARY iteration helper (not committed)
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GatewayHandle

if os.environ.get("H8_REUSE"):

    @pytest.fixture(scope="session")
    def local_gateway():
        return GatewayHandle(
            "http://127.0.0.1:47311",
            "sk-h8-test",
            47311,
            47312,
            subprocess.Popen(["true"]),
            Path("/tmp/h8/gw.log"),
            Path("/tmp/h8/rt"),
        )
