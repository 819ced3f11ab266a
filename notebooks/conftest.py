"""pytest settings for running these notebooks as tests with nbval (not needed to study them).

nbval compares the stored outputs of cells marked `# NBVAL_CHECK_OUTPUT`; warnings on
stderr differ between library versions, so stderr is left out of the comparison.
"""

from nbval.plugin import IPyNbFile


def pytest_collectstart(collector):
    if isinstance(collector, IPyNbFile):
        collector.skip_compare = (*collector.skip_compare, "stderr")
