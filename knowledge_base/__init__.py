"""Structured service guides (办事指南): model, storage, editor workflow, import/export, sample data."""
