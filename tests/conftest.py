import signal

import matplotlib

matplotlib.use("Agg")
# A shell that starts pytest as a background job (nohup ... &, some CI runners) hands it SIGINT ignored, and Python then
# leaves Ctrl-C ignored. The interrupt tests need Ctrl-C to behave as in a terminal or a notebook.
signal.signal(signal.SIGINT, signal.default_int_handler)
