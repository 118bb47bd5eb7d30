"""Read models and the projection functions that build them.

Importing this package registers every domain-event projection.
"""

from praetor.projections import jobs, resources  # noqa: F401
