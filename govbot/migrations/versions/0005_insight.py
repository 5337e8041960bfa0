"""insight: turn-log analytics columns and aggregates

Revision ID: 0005_insight
Revises: 0004_channels
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0005_insight'
down_revision = '0004_channels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # STUB: filled in by the work on the analytics


def downgrade() -> None:
    pass
