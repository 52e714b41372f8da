"""accounts: e-mail sign-in codes in a table of their own (atomic attempts, keyed hash)

Revision ID: 0006_login_code
Revises: 0005_commune_position_note
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_login_code'
down_revision = '0005_commune_position_note'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_code',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_code'))
    )
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_code_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_code_expires_at'))
    op.drop_table('login_code')
