"""Tenant pages of the integration, one module per page family; each lists its URLs."""
