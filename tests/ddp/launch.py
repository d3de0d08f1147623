"""Start one of this folder's scripts on two ``gloo`` processes with ``torchrun`` (CPU)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_two_ranks(script: str, *args) -> None:
    """``torchrun --standalone --nproc_per_node 2 tests/ddp/<script> <args>``; fails the test
    with the processes' stderr when they fail. One thread each: two processes share 2 cores."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", str(ROOT / "tests" / "ddp" / script),
               *map(str, args)]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
