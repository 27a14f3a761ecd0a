"""Kill a build process at random moments: the tests that a killed build never loses the
served index (both backends) share this loop."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from typing import Iterator


def killed_at_random(worker: list[str], times: int, seed: int = 1234) -> Iterator[int]:
    """Run ``worker`` once to time it, then ``times`` more, each SIGKILLed at a random moment of
    that duration; yields after each kill so the caller checks what is served. The workers run
    offline from the model hub, as the tests do."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    subprocess.run(worker, check=True, capture_output=True, env=env)
    duration = time.monotonic() - started
    rng = random.Random(seed)
    for attempt in range(times):
        proc = subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(rng.uniform(0.0, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        yield attempt
