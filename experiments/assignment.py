"""Which arm of an A/B test a device is in: a pure function of the test's seed and the device.

A device's assignment is (id × m + o) mod 10,000, with m and o drawn from the test's seed: m is
coprime to 10,000, so the map is a permutation of each run of 10,000 ids and the arms take
their exact shares. Computed in SQL at fan-out, it needs no table and never changes: the same
device is in the same arm on every send, the winner's included, and a new device changes
nobody else's arm.

Campaigns applies it through its extension points (campaigns.extensions), registered in
ExperimentsConfig.ready(): keep_arm_share narrows an arm's audience, holdout_reason leaves a
holdout's out.
"""

from __future__ import annotations

from django.db.models import F, Func, IntegerField, QuerySet, Value

from campaigns.models import Notification
from devices.models import Device
from experiments.models import Arm, ArmKind

# The purpose of an arm's notification (Notification.purpose), registered with campaigns.
PURPOSE = "experiment"
BUCKETS = 10_000
HOLDOUT_REASON = "In the A/B test's holdout group: sent nothing"


def factors(seed: int) -> tuple[int, int]:
    """Return the test's multiplier (odd, not a multiple of 5) and offset."""
    multiplier = 1 + 2 * (seed % 4999)
    if multiplier % 5 == 0:
        multiplier += 2
    return multiplier, (seed // 4999) % BUCKETS


def bucket_of(seed: int, device_id: int) -> int:
    """Return a device's assignment, 0 to 9,999, in the test with this seed."""
    multiplier, offset = factors(seed)
    return (device_id * multiplier + offset) % BUCKETS


def arm_of(notification: Notification) -> Arm | None:
    """Return the A/B test arm a notification sends, or None for any other notification."""
    if notification.purpose != PURPOSE or not notification.pk:
        return None
    return Arm.objects.select_related("experiment").filter(notification=notification).first()


def in_arm(devices: QuerySet[Device], arm: Arm) -> QuerySet[Device]:
    """Keep the devices whose assignment falls in the arm's share."""
    multiplier, offset = factors(arm.experiment.seed)
    assignment = Func(
        F("pk") * Value(multiplier) + Value(offset),
        Value(BUCKETS),
        function="MOD",
        output_field=IntegerField(),
    )
    return devices.alias(assignment=assignment).filter(
        assignment__gte=arm.bucket_from, assignment__lt=arm.bucket_to
    )


def is_holdout(arm: Arm | None) -> bool:
    return arm is not None and arm.kind == ArmKind.HOLDOUT


def keep_arm_share(notification: Notification, devices: QuerySet[Device]) -> QuerySet[Device]:
    """Narrow a notification's targeted devices to its arm's share; any other's stay as they are."""
    arm = arm_of(notification)
    return in_arm(devices, arm) if arm else devices


def holdout_reason(notification: Notification) -> str:
    """Say why a holdout's devices are all left out; "" for any other notification."""
    return HOLDOUT_REASON if is_holdout(arm_of(notification)) else ""
