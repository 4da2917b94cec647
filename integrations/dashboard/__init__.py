"""The ops dashboard: the health of every tenant's sync at a glance (its connection,
its jobs, its API usage) and charts of the last days, read in a constant number of
queries whatever the number of tenants and jobs.

`health` holds one tenant's row and its words, `selectors` reads rows and chart series
from the database, `charts` draws a series as SVG on the server."""
