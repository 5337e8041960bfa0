"""knowledge base: draft revisions (optimistic locking), four-eyes review

Revision ID: 0003_kb_revisions
Revises: 0002_dialogue_safety
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0003_kb_revisions'
down_revision = '0002_dialogue_safety'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # STUB: filled in by the work on the editor workflow


def downgrade() -> None:
    pass
