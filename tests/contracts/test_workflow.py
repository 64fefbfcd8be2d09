"""The transition table, without a database (unit and property tests)."""

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.contracts.workflow import (
    IN_FORCE_STATES,
    TRANSITIONS,
    Action,
    Actor,
    Status,
    TransitionRefused,
    allowed_actions,
    find,
    resolve,
)

ACTOR_SETS = st.frozensets(st.sampled_from(list(Actor)))


def test_every_state_is_reachable_from_draft() -> None:
    seen = {Status.draft}
    queue = deque([Status.draft])
    while queue:
        state = queue.popleft()
        for t in TRANSITIONS:
            if t.source == state and t.target not in seen:
                seen.add(t.target)
                queue.append(t.target)
    assert seen == set(Status)


def test_only_register_enters_registered_and_cancel_is_final() -> None:
    into_registered = {(t.source, t.action) for t in TRANSITIONS if t.target == Status.registered}
    assert into_registered == {
        (Status.under_review, Action.register),
        (Status.expert_review, Action.register),
        (Status.registered, Action.amend),
        # A change under expert review takes effect or is rejected; either way the registration stands.
        (Status.amendment_review, Action.amend),
        (Status.amendment_review, Action.reject_amendment),
    }
    assert not [t for t in TRANSITIONS if t.source == Status.cancelled]


def test_applicants_never_decide_and_officers_never_apply() -> None:
    for t in TRANSITIONS:
        decisions = (Action.accept, Action.register, Action.refuse, Action.amend, Action.reject_amendment)
        if t.action in (*decisions, Action.cancel):
            assert t.actors == {Actor.officer}, t
        if t.action in (Action.submit, Action.resubmit):
            assert t.actors == {Actor.applicant}, t


def test_refused_lists_the_allowed_actions() -> None:
    with pytest.raises(TransitionRefused) as refused:
        resolve(Status.submitted, Action.register, {Actor.officer})
    assert refused.value.allowed == [Action.accept, Action.request_correction]
    assert refused.value.exists is False
    with pytest.raises(TransitionRefused) as wrong_actor:
        resolve(Status.under_review, Action.register, {Actor.applicant})
    assert wrong_actor.value.exists is True and wrong_actor.value.allowed == []


@given(st.sampled_from(list(Status)), st.sampled_from(list(Action)), ACTOR_SETS)
def test_resolve_agrees_with_the_table(state: Status, action: Action, actors: frozenset[Actor]) -> None:
    transition = find(state, action)
    permitted = transition is not None and bool(transition.actors & actors)
    assert (action in allowed_actions(state, actors)) == permitted
    if permitted:
        assert resolve(state, action, actors) is transition
    else:
        with pytest.raises(TransitionRefused):
            resolve(state, action, actors)


@given(st.lists(st.tuples(st.sampled_from(list(Action)), ACTOR_SETS), max_size=60))
def test_random_walks_stay_inside_the_table(steps: list[tuple[Action, frozenset[Actor]]]) -> None:
    state = Status.draft
    registrations = 0
    for action, actors in steps:
        try:
            transition = resolve(state, action, actors)
        except TransitionRefused as refused:
            assert action not in refused.allowed
            continue
        assert transition.source == state
        if transition.target == Status.registered and state not in IN_FORCE_STATES:
            registrations += 1
            assert action == Action.register
        state = transition.target
    assert state in set(Status)


def test_a_large_change_is_held_for_experts_and_the_registration_stays_in_force() -> None:
    referral = find(Status.registered, Action.refer_amendment)
    assert referral is not None and referral.actors == {Actor.system}  # only as the officer's amend
    assert referral.target == Status.amendment_review
    assert Status.amendment_review in IN_FORCE_STATES and Status.registered in IN_FORCE_STATES
    assert allowed_actions(Status.amendment_review, {Actor.officer}) == [
        Action.add_expert_opinion,
        Action.amend,
        Action.reject_amendment,
    ]
    # Nothing else happens to a registration while its change is under review.
    assert allowed_actions(Status.amendment_review, {Actor.applicant, Actor.admin}) == []
