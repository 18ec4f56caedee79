"""Wasla's database backends (PostgreSQL: applies the tenant scope for row-level security)."""
