"""operators: passwords, sessions, lock-out, disabled accounts

Revision ID: 0006_operator_signin
Revises: 0005_insight
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_operator_signin'
down_revision = '0005_insight'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failed_signins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))

    op.create_table('operator_sessions',
    sa.Column('id_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_name'], ['api_users.name'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_sha256')
    )
    with op.batch_alter_table('operator_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_sessions_user_name'), ['user_name'], unique=False)

    op.create_table('operator_auth_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operator_auth_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_auth_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_operator_auth_log_name'), ['name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('operator_auth_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_auth_log_name'))
        batch_op.drop_index(batch_op.f('ix_operator_auth_log_at'))
    op.drop_table('operator_auth_log')
    with op.batch_alter_table('operator_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_sessions_user_name'))
    op.drop_table('operator_sessions')
    with op.batch_alter_table('api_users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_signins')
        batch_op.drop_column('disabled')
        batch_op.drop_column('password_hash')
