"""bookings and progress: atomic capacity, normalised slots, wrong-tail lockouts

Revision ID: 0002_dialogue_safety
Revises: 0001
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0002_dialogue_safety'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # STUB: filled in by the work on the action webhook / bookings


def downgrade() -> None:
    pass
