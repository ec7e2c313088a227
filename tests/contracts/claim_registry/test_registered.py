"""ClaimRegistry.registered: one flag per id, so an import refuses duplicates before sending."""


def test_flags_follow_the_ids(registry, register):
    known = register()
    assert registry.registered([known, b"\x09" * 32, known]) == [True, False, True]


def test_empty_list_gives_empty_answer(registry):
    assert registry.registered([]) == []


def test_thousand_ids_are_accepted(registry, register):
    known = register()
    flags = registry.registered([known] + [bytes([1]) * 32] * 999)
    assert flags[0] is True and flags.count(True) == 1 and len(flags) == 1000
