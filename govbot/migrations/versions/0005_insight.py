"""insight: turn-log analytics columns and aggregates

Revision ID: 0005_insight
Revises: 0004_channels
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_insight'
down_revision = '0004_channels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('turns') as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), server_default='web', nullable=False))
        batch_op.add_column(sa.Column('intent', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('handoff', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_turns_rating_at', ['rating', 'at'], unique=False)
    op.create_table('insight_hourly',
                    sa.Column('hour', sa.Integer(), nullable=False),
                    sa.Column('channel', sa.String(length=20), nullable=False),
                    sa.Column('author', sa.String(length=10), nullable=False),
                    sa.Column('decision', sa.String(length=10), nullable=False),
                    sa.Column('handoff', sa.Boolean(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('hour', 'channel', 'author', 'decision', 'handoff'), sqlite_with_rowid=False)
    op.create_table('insight_service_daily',
                    sa.Column('day', sa.Integer(), nullable=False),
                    sa.Column('code', sa.String(length=40), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'code'), sqlite_with_rowid=False)
    op.create_table('insight_latency_daily',
                    sa.Column('day', sa.Integer(), nullable=False),
                    sa.Column('latency_ms', sa.Integer(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'latency_ms'), sqlite_with_rowid=False)
    op.create_table('insight_question_daily',
                    sa.Column('day', sa.Integer(), nullable=False),
                    sa.Column('question', sa.String(length=200), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'question'), sqlite_with_rowid=False)
    op.create_table('insight_cursor',
                    sa.Column('name', sa.String(length=20), nullable=False),
                    sa.Column('last_id', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('name'))
    op.create_table('insight_gaps',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('label', sa.String(length=200), nullable=False),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.Column('examples', sa.JSON(), nullable=False),
                    sa.Column('this_week', sa.Integer(), nullable=False),
                    sa.Column('last_week', sa.Integer(), nullable=False),
                    sa.Column('near_code', sa.String(length=40), nullable=False),
                    sa.Column('status', sa.String(length=10), nullable=False),
                    sa.Column('draft_code', sa.String(length=40), nullable=False),
                    sa.Column('answered_at_mining', sa.Boolean(), nullable=False),
                    sa.Column('checked_change', sa.Integer(), nullable=False),
                    sa.Column('mined_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    for table in ('insight_gaps', 'insight_cursor', 'insight_question_daily', 'insight_latency_daily',
                  'insight_service_daily', 'insight_hourly'):
        op.drop_table(table)
    with op.batch_alter_table('turns') as batch_op:
        batch_op.drop_index('ix_turns_rating_at')
        batch_op.drop_column('handoff')
        batch_op.drop_column('intent')
        batch_op.drop_column('channel')
