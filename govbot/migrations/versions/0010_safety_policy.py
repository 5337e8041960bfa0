"""knowledge base: the safety policy (kb_safety_topics), editable and audited

The shipped topics are written by the app on its first start after this revision (`Services.safety_policy`),
once: the audit log then remembers the policy was seeded, so a city's later edits are never overwritten.

Revision ID: 0010_safety_policy
Revises: 0009_insight_daily
"""
from alembic import op
import sqlalchemy as sa

revision = '0010_safety_policy'
down_revision = '0009_insight_daily'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kb_safety_topics',
                    sa.Column('key', sa.String(length=40), nullable=False),
                    sa.Column('data', sa.JSON(), nullable=False),
                    sa.Column('updated_by', sa.String(length=80), nullable=False),
                    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('key'))


def downgrade() -> None:
    op.drop_table('kb_safety_topics')
