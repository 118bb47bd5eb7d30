"""Commands and their handlers. Importing this package registers every handler on the bus."""

from praetor.commands import inventories, job_templates, jobs, organizations, projects  # noqa: F401
