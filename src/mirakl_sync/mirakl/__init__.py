"""Typed client for the Mirakl Seller API.

``MiraklClient`` / ``AsyncMiraklClient`` expose the resources ``orders``, ``shipments``,
``offers``, ``stock``, ``finance`` and ``platform``; ``OPERATIONS`` lists every Mirakl operation
implemented with its HTTP method and path template.
"""

from mirakl_sync._http import CallBudget, Limit, RetryPolicy, Secret
from mirakl_sync.mirakl._operations import OPERATIONS, Operation
from mirakl_sync.mirakl.client import AsyncMiraklClient, MiraklClient

__all__ = [
    "OPERATIONS",
    "AsyncMiraklClient",
    "CallBudget",
    "Limit",
    "MiraklClient",
    "Operation",
    "RetryPolicy",
    "Secret",
]
