"""maps: a note on communes whose town-hall point in the source was wrong

Revision ID: 0005_commune_position_note
Revises: 0004_service_path
Create Date: 2026-11-23 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_commune_position_note'
down_revision = '0004_service_path'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position_note', sa.String(length=200), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.drop_column('position_note')
