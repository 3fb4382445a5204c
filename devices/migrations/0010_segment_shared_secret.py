# Segment.com's shared secret was encrypted in two columns of the app; it is journeys'
# SegmentComSource now (journeys/0003_segment_com_source), so a new database never makes them
# here. A database that applied this migration before keeps its columns until journeys/0003
# moves the secrets and drops them.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0009_device_first_seen_index'),
    ]

    operations = []
