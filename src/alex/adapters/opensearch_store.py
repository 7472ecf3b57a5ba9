"""The stable import path of the OpenSearch store; the code is in ``alex.adapters.opensearch``."""

from alex.adapters.opensearch import *  # noqa: F403
from alex.adapters.opensearch import __all__ as __all__
