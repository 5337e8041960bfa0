"""operators: passwords, sessions, lock-out, disabled accounts

Revision ID: 0006_operator_signin
Revises: 0005_insight
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0006_operator_signin'
down_revision = '0005_insight'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # STUB: filled in by the work on operator sign-in


def downgrade() -> None:
    pass
