"""channels: WeChat identities, de-duplication and outbox

Revision ID: 0004_channels
Revises: 0003_kb_revisions
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0004_channels'
down_revision = '0003_kb_revisions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # STUB: filled in by the work on the WeChat channels


def downgrade() -> None:
    pass
