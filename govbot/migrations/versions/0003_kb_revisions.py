"""knowledge base: draft revisions (optimistic locking), four-eyes review

Revision ID: 0003_kb_revisions
Revises: 0002_dialogue_safety
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_kb_revisions'
down_revision = '0002_dialogue_safety'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kb_guides', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('edited_by', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('submitted_by', sa.String(length=80), nullable=False, server_default=''))
    op.execute("UPDATE kb_guides SET edited_by = updated_by")
    # an archived guide has no live version: nothing archived can be answered again without a new publish
    op.execute("UPDATE kb_guides SET live_version = NULL WHERE status = 'archived'")


def downgrade() -> None:
    with op.batch_alter_table('kb_guides', schema=None) as batch_op:
        batch_op.drop_column('submitted_by')
        batch_op.drop_column('edited_by')
        batch_op.drop_column('revision')
