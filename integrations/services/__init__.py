"""Writes of the sync, one module per thing they change: `connection` (the tenant's
Salesforce connection), `settings` (its integration settings), `choices` (a person's
answer to "which record is this?"), `actions` (what members and partners ask of the
sync: preview, send, log, create a Lead) and `jobs` (sync jobs: run, resolve, retry).
Import what you need from its module; this package re-exports nothing."""
