import signal

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
# A shell that starts pytest as a background job (nohup ... &, some CI runners) hands it SIGINT ignored, and Python then
# leaves Ctrl-C ignored. The interrupt tests need Ctrl-C to behave as in a terminal or a notebook.
signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a test module's runs: tiny models run as fast on one thread, a busy shared CPU slows two
    OpenMP threads down badly, and runs compared for equality need the same thread count (it changes the rounding)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
