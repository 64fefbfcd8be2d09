"""A deal's notes and next-step tasks, and each broker's overdue list. Whoever sees the deal (its
parties' members, its broker, administrators) may write notes and tasks on it."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit import service as audit
from app.core.errors import Conflict, NotFound, NotPermitted
from app.core.pagination import PageParams
from app.core.types import today_in_china
from app.deals import policy, repository
from app.deals.models import DealNote, DealTask
from app.deals.schemas import NoteIn, TaskIn
from app.deals.service import deal_closed, get, invalid
from app.deals.vocabulary import CLOSED_STAGES

TASK_NOT_FOUND = NotFound(code="task_not_found", message_en="No such task.", message_zh="任务不存在。")


async def add_note(session: AsyncSession, *, user: User, deal_id: uuid.UUID, data: NoteIn) -> DealNote:
    deal = await get(session, user=user, deal_id=deal_id)
    note = DealNote(deal_id=deal.id, author_id=user.id, body=data.body)
    session.add(note)
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type="deal",
        object_id=deal.id,
        action="note",
        changes={"note_id": note.id},
    )
    await session.refresh(note)
    return note


async def notes(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[DealNote], int]:
    deal = await get(session, user=user, deal_id=deal_id)
    return await repository.page_notes(session, deal.id, page)


async def add_task(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, data: TaskIn, today: date | None = None
) -> DealTask:
    """A next step on an open deal, due today or later, for someone who sees the deal (by default
    its broker, else the writer)."""
    deal = await get(session, user=user, deal_id=deal_id)
    if deal.stage in CLOSED_STAGES:
        raise deal_closed(deal)
    if data.due_on < (today or today_in_china()):
        raise invalid("due_on", "in_the_past", "A task is due today or later.", "到期日不能早于今天。")
    assignee_id = data.assignee_id or deal.broker_user_id or user.id
    assignee = await repository.user(session, assignee_id)
    if assignee is None or not assignee.is_active or not policy.can_read(assignee, deal):
        raise invalid(
            "assignee_id",
            "not_on_deal",
            "The assignee must be someone who sees the deal.",
            "负责人须为本项目的一方成员、经理人或管理员。",
        )
    task = DealTask(
        deal_id=deal.id, title=data.title, due_on=data.due_on, assignee_id=assignee.id, created_by_id=user.id
    )
    session.add(task)
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type="deal",
        object_id=deal.id,
        action="task",
        changes={"task_id": task.id, "title": task.title, "due_on": task.due_on, "assignee_id": assignee.id},
    )
    await session.refresh(task)
    return task


async def tasks(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[DealTask], int]:
    deal = await get(session, user=user, deal_id=deal_id)
    return await repository.page_tasks(session, deal.id, page)


async def complete(session: AsyncSession, *, user: User, deal_id: uuid.UUID, task_id: uuid.UUID) -> DealTask:
    deal = await get(session, user=user, deal_id=deal_id)
    task = await repository.task_for_update(session, deal.id, task_id)
    if task is None:
        raise TASK_NOT_FOUND
    if task.done_at is not None:
        raise Conflict(
            code="task_done",
            message_en="The task is already done.",
            message_zh="该任务已完成。",
            extra={"current_status": "done"},
        )
    task.done_at = datetime.now(UTC)
    await session.flush()
    await audit.record(
        session,
        actor=user,
        object_type="deal",
        object_id=deal.id,
        action="task_done",
        changes={"task_id": task.id},
    )
    await session.refresh(task)
    return task


async def overdue(
    session: AsyncSession,
    *,
    user: User,
    page: PageParams,
    broker_id: uuid.UUID | None,
    today: date | None = None,
) -> tuple[list[tuple[DealTask, str]], int, date]:
    """The open tasks past due of the caller, or of `broker_id` for an administrator."""
    assignee = user
    if broker_id is not None and broker_id != user.id:
        if user.role != Role.admin:
            raise NotPermitted(
                code="admin_only",
                message_en="Only administrators read another broker's overdue tasks.",
                message_zh="只有管理员可以查看他人的逾期任务。",
            )
        found = await repository.user(session, broker_id)
        if found is None:
            raise invalid("broker_id", "unknown_user", "No such user.", "用户不存在。")
        assignee = found
    day = today or today_in_china()
    rows, total = await repository.page_overdue(session, assignee, day, page)
    return rows, total, day
