"""The transition table on its own, without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import InvalidTransition, NotPermitted
from app.listings.lifecycle import TRANSITIONS, Action, Party, next_status
from app.listings.vocabulary import ListingStatus as S

parties = st.frozensets(st.sampled_from(list(Party)))


@given(status=st.sampled_from(list(S)), action=st.sampled_from(list(Action)), who=parties)
def test_next_status_follows_the_table_exactly(status, action, who):
    entry = TRANSITIONS.get((status, action))
    if entry is None:
        with pytest.raises(InvalidTransition):
            next_status(status, action, who)
    elif not entry[1] & who:
        with pytest.raises(NotPermitted):
            next_status(status, action, who)
    else:
        assert next_status(status, action, who) == entry[0]


@given(actions=st.lists(st.tuples(st.sampled_from(list(Action)), parties), max_size=30))
def test_any_sequence_of_actions_stays_in_the_lifecycle(actions):
    """Whatever is attempted, a listing only reaches `published` from `draft`, and leaves
    taken_down/closed/expired only by a revision back to draft."""
    status = S.draft
    for action, who in actions:
        try:
            target = next_status(status, action, who)
        except (InvalidTransition, NotPermitted):
            continue
        if target == S.published:
            assert status == S.draft and Party.owner in who
        if status in (S.closed, S.taken_down, S.expired):
            assert target == S.draft
        status = target


def test_who_may_do_what():
    assert next_status(S.draft, Action.publish, {Party.owner}) == S.published
    assert next_status(S.published, Action.close, {Party.owner}) == S.closed
    assert next_status(S.published, Action.take_down, {Party.admin}) == S.taken_down
    assert next_status(S.published, Action.expire, {Party.system}) == S.expired
    for status in (S.closed, S.taken_down, S.expired):
        assert next_status(status, Action.revise, {Party.owner}) == S.draft
    with pytest.raises(NotPermitted):
        next_status(S.published, Action.take_down, {Party.owner})
    with pytest.raises(NotPermitted):
        next_status(S.draft, Action.publish, {Party.admin})
    with pytest.raises(NotPermitted):
        next_status(S.published, Action.expire, {Party.owner, Party.admin})
    with pytest.raises(InvalidTransition):
        next_status(S.taken_down, Action.publish, {Party.owner})
    with pytest.raises(InvalidTransition):
        next_status(S.published, Action.publish, {Party.owner})


def test_every_status_is_reachable_from_draft():
    reached, frontier = {S.draft}, [S.draft]
    while frontier:
        current = frontier.pop()
        for (source, _), (target, _) in TRANSITIONS.items():
            if source == current and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(S)


def test_labels_are_per_enumeration():
    """Equal codes in two vocabularies keep their own labels (转让 vs 技术转让)."""
    from app.listings.vocabulary import CooperationMode, TransferMode

    assert TransferMode.transfer.label == "转让"
    assert CooperationMode.transfer.label == "技术转让"
