"""CollectionPolicy.set_policy: the admin sets presets, a creditor its own policies; the
first setter owns an id."""

from dataclasses import replace

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import CN_CBA_2026, PRESETS, US_REG_F, from_params, to_params

ZERO = "0x" + "00" * 20
MINE = keccak(text="bank-a/gentle")


def set_as(policy, who, policy_id, rules):
    with boa.env.prank(who):
        policy.set_policy(policy_id, to_params(rules))


@pytest.mark.parametrize("name", PRESETS)
def test_presets_installed_as_consortium_policies(policy, name):
    owner, params = policy.policy_of(keccak(text=name))
    assert owner == ZERO
    assert from_params(name, params) == PRESETS[name]


def test_admin_sets_a_preset(policy, actors, events):
    pid = keccak(text="eu-2027")
    rules = replace(US_REG_F, name="eu-2027", max_weekly=3)
    set_as(policy, actors.admin, pid, rules)
    assert events(policy) == [
        (
            "PolicySet",
            {
                "policy_id": pid,
                "owner": ZERO,
                "set_by": actors.admin,
                "params": policy.policy_of(pid)[1],
            },
        )
    ]
    assert from_params("eu-2027", policy.policy_of(pid)[1]) == rules
    assert policy.policy_count() == 3


def test_creditor_sets_and_changes_its_own(policy, actors):
    set_as(policy, actors.creditor, MINE, replace(CN_CBA_2026, name="gentle", max_daily=2))
    assert policy.policy_of(MINE)[0] == actors.creditor
    set_as(policy, actors.creditor, MINE, replace(CN_CBA_2026, name="gentle", max_daily=1))
    assert policy.policy_of(MINE)[1].max_daily == 1
    assert policy.policy_count() == 3  # a change keeps the policy's number


def test_admin_changes_a_preset(policy, actors):
    pid = keccak(text="cn-cba-2026")
    set_as(policy, actors.admin, pid, replace(CN_CBA_2026, max_daily=5))
    assert policy.policy_of(pid)[0] == ZERO
    assert policy.policy_of(pid)[1].max_daily == 5


@pytest.mark.parametrize("caller", ["creditor", "creditor2"])
def test_creditor_may_not_change_a_preset(policy, actors, caller):
    with (
        boa.env.prank(getattr(actors, caller)),
        boa.reverts("collection: policy belongs to the consortium"),
    ):
        policy.set_policy(keccak(text="us-reg-f"), to_params(replace(US_REG_F, max_weekly=0)))
    assert policy.policy_of(keccak(text="us-reg-f"))[1].max_weekly == 7


@pytest.mark.parametrize("caller", ["creditor2", "admin"])
def test_nobody_else_changes_a_creditors_policy(policy, actors, caller):
    set_as(policy, actors.creditor, MINE, CN_CBA_2026)
    with (
        boa.env.prank(getattr(actors, caller)),
        boa.reverts("collection: policy belongs to another creditor"),
    ):
        policy.set_policy(MINE, to_params(US_REG_F))


@pytest.mark.parametrize(
    "caller", ["agency", "court", "regulator", "gateway", "keeper", "stranger"]
)
def test_refused_for_non_creditors(policy, actors, caller):
    with (
        boa.env.prank(getattr(actors, caller)),
        boa.reverts("collection: caller may not set policies"),
    ):
        policy.set_policy(MINE, to_params(CN_CBA_2026))
    with boa.reverts("collection: unknown policy"):
        policy.policy_of(MINE)


def test_empty_id_refused(policy, actors):
    with boa.env.prank(actors.admin), boa.reverts("collection: empty policy id"):
        policy.set_policy(b"\x00" * 32, to_params(CN_CBA_2026))


def params_with(**changes):
    p = list(to_params(US_REG_F))
    names = [
        "stage_days", "channels", "kinds", "contact_start", "contact_end", "max_daily",
        "max_weekly", "capped_channels", "cooling_off", "third_party_after",
        "credit_report_wait_days", "legal_min_stage", "limitation_days",
    ]  # fmt: skip
    for k, v in changes.items():
        p[names.index(k)] = v
    return tuple(p)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"stage_days": (0, 8, 31, 91)}, "collection: stage days must rise from 1"),
        ({"stage_days": (1, 8, 8, 91)}, "collection: stage days must rise from 1"),
        ({"stage_days": (1, 8, 91, 31)}, "collection: stage days must rise from 1"),
        ({"channels": (3, 7, 15, 31, 32)}, "collection: mask out of range"),
        ({"kinds": (32, 3, 7, 15, 31)}, "collection: mask out of range"),
        ({"capped_channels": 32}, "collection: mask out of range"),
        ({"contact_start": 600, "contact_end": 600}, "collection: bad contact window"),
        ({"contact_start": 1320, "contact_end": 480}, "collection: bad contact window"),
        ({"contact_end": 1441}, "collection: bad contact window"),
        ({"max_daily": 8}, "collection: cap above 7"),
        ({"max_weekly": 8}, "collection: cap above 7"),
        ({"legal_min_stage": 5}, "collection: legal stage above 4"),
    ],
)
def test_bad_params_refused(policy, actors, changes, reason):
    with boa.env.prank(actors.admin), boa.reverts(reason):
        policy.set_policy(MINE, params_with(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"stage_days": (1, 2, 3, 65535)},
        {"contact_start": 0, "contact_end": 1440},
        {"contact_start": 1439, "contact_end": 1440},
        {"max_daily": 7, "max_weekly": 7, "legal_min_stage": 4},
        {"channels": (31,) * 5, "kinds": (0,) * 5, "capped_channels": 31},
        {"cooling_off": 2**32 - 1, "credit_report_wait_days": 65535, "limitation_days": 65535},
        {"third_party_after": 255, "max_daily": 0, "max_weekly": 0, "limitation_days": 0},
    ],
)
def test_extreme_params_round_trip(policy, actors, changes):
    params = params_with(**changes)
    with boa.env.prank(actors.admin):
        policy.set_policy(MINE, params)
    got = policy.policy_of(MINE)[1]
    assert tuple(tuple(v) if isinstance(v, list) else v for v in got) == params
